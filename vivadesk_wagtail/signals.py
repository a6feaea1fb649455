"""Signals the help desk sends; receivers elsewhere react to changes.

The services send them after the change has been written, inside the same
transaction; receivers run synchronously, so what they write commits or rolls
back with the change, and outside work must wait for ``transaction.on_commit``.
"""

from django.dispatch import Signal

# The project's own receivers are connected in
# ``signal_handlers.register_signal_handlers()``.

#: A ticket was opened (``services.tickets``). Arguments: ``ticket``,
#: ``message`` (its first message), ``acknowledge`` (False: the customer gets
#: no acknowledgement, e.g. a rate-limited unconfirmed address).
ticket_opened = Signal()
#: A message was added to a ticket (``services.tickets``). Arguments:
#: ``ticket``, ``message``.
message_added = Signal()
#: A ticket's status changed (``services.tickets``). Arguments: ``ticket``,
#: ``old``, ``new``, ``by`` (the user, or None), ``quiet`` (True: the
#: customer caused the change themselves and is not mailed about it).
status_changed = Signal()
#: A ticket was merged into another (``services.merge``), both still
#: locked. Arguments: ``source`` (now closed), ``target``, ``by``.
ticket_merged = Signal()
#: A service target of an open ticket is due soon (``services.
#: service_targets.check_targets``), once per target. Arguments: ``ticket``,
#: ``target`` (``"first_response"`` or ``"resolution"``), ``due``.
target_warning_due = Signal()
#: Staff sent a held mail back to the inbound pipeline
#: (``services.held_mail.reprocess``), after the row is ``pending`` again and
#: committed. Arguments: ``pk`` (the ``InboundMail`` row's id).
inbound_released = Signal()
#: A known customer whose account still awaits its confirmation wrote in
#: (``services.inbound``): their mail is held, and they are due a fresh
#: activation link (at most one a day, counted by the sender). Arguments:
#: ``user``.
activation_reminder_due = Signal()
#: A data-protection request needs a mail to its customer
#: (``services.data_requests``). Arguments: ``request`` (the
#: ``DataRequest``), ``event`` (``erasure_confirm``, ``erasure_scheduled``,
#: ``erasure_cancelled`` or ``export_ready``).
data_request_mail_due = Signal()
