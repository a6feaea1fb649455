"""The dev-only "Demo mail" page: the mail this development site sent (Django's
file e-mail backend), and replies or new mails placed in the demo inbox, a
local maildir that the scheduled mailbox poller reads. Nothing here runs in
production: the URLs are included only when ``DEBUG`` and
``VIVADESK_DEMO_MAIL`` are set, and the views answer 404 otherwise."""
