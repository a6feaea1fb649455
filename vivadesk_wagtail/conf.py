"""The app's settings: one ``VIVADESK`` dict in the host project's settings.

Every key has a documented default below, read at call time through
:func:`get` (never at import); ``checks.py`` validates the merged result.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    #: Prefix of human ticket references: ``VIVA`` gives ``VIVA-1042``. Letters,
    #: digits, 2 to 12 characters, starting with a letter.
    "TICKET_PREFIX": "VIVA",
    #: The number of the first ticket ever created (later ones count up).
    "TICKET_FIRST_NUMBER": 1000,
    #: The help-desk address customers write to; used as ``Reply-To`` of every
    #: notification and shown in mails and pages.
    "HELPDESK_EMAIL": "helpdesk@viva.de",
    #: ``From`` of outgoing mail; ``None`` means "VIVA HelpDesk <HELPDESK_EMAIL>".
    "FROM_EMAIL": None,
    #: Where notices about new tickets and customer answers go when a ticket has
    #: no assignee; ``None`` means the help-desk address itself.
    "STAFF_NOTIFY_EMAIL": None,
    #: The public URL of the site, e.g. ``https://www.viva.de``. Links in mails
    #: are built from it, never from a request's Host header.
    "BASE_URL": "http://127.0.0.1:8000",
    #: Domain of our own ``Message-ID``s (``<…@MESSAGE_ID_DOMAIN>``); ``None``
    #: means the host part of ``HELPDESK_EMAIL``.
    "MESSAGE_ID_DOMAIN": None,
    #: How long a ticket stays ``Done`` without a customer answer before it is
    #: closed for good.
    "AUTO_CLOSE_AFTER": timedelta(weeks=3),
    #: How long an activation link stays valid.
    "ACTIVATION_MAX_AGE": timedelta(days=7),
    #: Largest accepted attachment, in bytes.
    "ATTACHMENT_MAX_SIZE": 10 * 1024 * 1024,
    #: Most attachments on one message (form, portal comment, mail).
    "ATTACHMENT_MAX_COUNT": 10,
    #: Content types accepted as attachments, checked against the file's
    #: content (magic bytes), not the name or the declared type.
    "ATTACHMENT_ALLOWED_TYPES": [
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "message/rfc822",
    ],
    #: Alias in Django's ``STORAGES`` of the private storage that keeps
    #: attachments and raw mail. It must not be served under ``MEDIA_URL``.
    "STORAGE": "vivadesk_private",
    #: How long the raw source of inbound mail is kept.
    "RAW_MAIL_RETENTION": timedelta(days=365),
    #: Attempts to send one outgoing mail before it is marked failed.
    "OUTBOX_MAX_ATTEMPTS": 12,
    #: Wait before the first retry of a failed send; doubles on each attempt.
    "OUTBOX_RETRY_DELAY": timedelta(minutes=1),
    #: The longest wait between two attempts (with the defaults a mail keeps
    #: trying for about seven hours before it is marked failed).
    "OUTBOX_RETRY_MAX_DELAY": timedelta(hours=1),
    #: A mail left ``pending`` or ``sending`` this long is queued again by the
    #: outbox sweeper (lost task, restarted worker, rotated ``SECRET_KEY``).
    #: ``None``: django-q2's task timeout plus a minute, after which the
    #: worker that claimed the mail has finished or been killed
    #: (:func:`outbox_stuck_after`).
    "OUTBOX_STUCK_AFTER": None,
    #: Language of mail and pages when neither the ticket nor the customer
    #: names one that the site offers.
    "FALLBACK_LANGUAGE": "en",
    #: Contact-form posts stored per client IP (django-ratelimit rate): those
    #: that became a ticket or were caught as spam. A post that comes back
    #: with errors does not count. The limit is checked before and counted
    #: after a post is stored; over it the form comes back with everything
    #: typed and when to send it again (HTTP 429). The default suits an office
    #: whose people all post from one address (NAT): the spam work is done by
    #: the traps (kept as spam for review), the per-address and the global
    #: caps on confirmation mails, not by this limit.
    "RATE_FORM_PER_IP": "60/h",
    #: Confirmation mails per target address; further tickets for the same
    #: unconfirmed address are accepted but not acknowledged again.
    "RATE_CONFIRMATIONS_PER_ADDRESS": "1/h",
    #: Confirmation mails to unconfirmed addresses, all addresses together.
    "RATE_CONFIRMATIONS_GLOBAL": "200/h",
    #: Requests for a new activation link per client IP.
    "RATE_ACTIVATION_RESEND": "5/h",
    #: Login attempts (POSTs of the customer login and the Wagtail admin login)
    #: per client IP, whatever the account.
    "LOGIN_RATE_PER_IP": "30/10m",
    #: Login attempts per submitted user name or e-mail address (lower-cased),
    #: from any IP. Over the limit a login is refused without checking the
    #: password; the count starts again when the window ends, so the owner is
    #: never locked out for longer than one window.
    "LOGIN_RATE_PER_ACCOUNT": "10/15m",
    #: Password-reset requests (the customer's and the Wagtail admin's) per
    #: client IP. Over a limit the answer is the usual "if the address is
    #: known, a link is on its way", but no mail is sent; a warning is logged.
    "RATE_PASSWORD_RESET_PER_IP": "10/h",
    #: Password-reset requests per address, from any IP; over it, as over the
    #: per-IP limit. The address is counted as the login matches it: its
    #: case, or the domain written in Unicode or in IDNA, make no new counter.
    "RATE_PASSWORD_RESET_PER_ADDRESS": "3/h",
    #: Comments and new requests one signed-in customer may send from the
    #: portal (together). Over the limit the form comes back with the typed
    #: text and a request to wait (HTTP 429); nothing is stored or mailed.
    "RATE_PORTAL_POSTS_PER_CUSTOMER": "10/10m",
    #: Bytes of attachments one customer may have stored (the files of their
    #: own messages: portal, contact form, mail). A portal form whose files
    #: would go beyond it is refused with a message; the contact form and a
    #: mail keep their text and drop the files that do not fit, with a note
    #: for agents. ``None``: no quota.
    "ATTACHMENT_QUOTA_PER_CUSTOMER": 200 * 1024 * 1024,
    #: A contact form sent faster than this after it was shown is a bot's.
    "MIN_FILL_SECONDS": 2,
    #: How long a shown contact form may be sent. An older one is shown again
    #: with everything typed and a request to send it again (nothing stored).
    #: The form's signed time stamp is also bound to the visitor's CSRF
    #: cookie: a stamp from another browser counts as forged.
    "FORM_MAX_AGE": timedelta(hours=4),
    #: Human-looking mails from one sender on one ticket (or new tickets from
    #: one sender) within ``INBOUND_FLOOD_WINDOW`` before the rest is capped.
    "INBOUND_FLOOD_MAX": 5,
    "INBOUND_FLOOD_WINDOW": timedelta(minutes=10),
    #: authserv-id of our own MX; when set, its ``Authentication-Results``
    #: saying ``dmarc=fail`` holds the mail. Other A-R headers are ignored.
    "MAIL_AUTHSERV_ID": None,
    #: Larger inbound mail is stored (raw) but held as too large, never parsed.
    "INBOUND_MAX_SIZE": 50 * 1024 * 1024,
    #: Wait before an inbound mail whose processing met a transient database
    #: error (connection lost, deadlock, serialization failure, lock timeout,
    #: SQLite "database is locked") is tried again; doubles on each failure.
    "INBOUND_RETRY_DELAY": timedelta(minutes=1),
    #: The longest wait between two attempts of one inbound mail.
    "INBOUND_RETRY_MAX_DELAY": timedelta(hours=1),
    #: Transient database errors one inbound mail may meet before it is held
    #: for staff (reason ``transient_error``, the last error in its details).
    "INBOUND_TRANSIENT_ATTEMPTS": 5,
    #: A mail left ``pending`` this long without a retry time (a lost task, a
    #: crashed worker) is processed by the inbound sweeper.
    "INBOUND_STUCK_AFTER": timedelta(minutes=2),
    #: How long a mailbox poller holds a mailbox without renewing its lease
    #: (it renews while it works). A poller that died is replaced when this
    #: has passed, or at once by the next poller on the same host.
    "MAILBOX_POLL_LEASE": timedelta(seconds=60),
    #: The help desk's phone number as the thank-you page shows it (e.g.
    #: ``"+49 30 1234567"``), for visitors our mail does not reach; ``None``:
    #: the page names the help-desk address instead.
    "HELPDESK_PHONE": None,
    #: How long contact-form posts caught by the spam traps (honeypot, sent
    #: too fast, a forged or another visitor's time stamp) stay in the "Spam"
    #: list, where an agent may turn one into a ticket; a daily task deletes
    #: older ones.
    "SPAM_RETENTION": timedelta(days=30),
    #: Bytes of attachments kept of all caught posts together (they do not
    #: count toward any customer's quota). Files of a caught post that would
    #: go beyond it are not kept; their names are. ``0`` keeps no files.
    "SPAM_FILES_MAX_BYTES": 200 * 1024 * 1024,
    #: How long a data export (``Meine Daten herunterladen``) can be
    #: downloaded before it is removed.
    "EXPORT_VALID_FOR": timedelta(days=7),
    #: How many data exports a customer may ask for (one runs at a time).
    "RATE_EXPORTS_PER_CUSTOMER": "3/d",
    #: How many erasure confirmation mails a customer may ask for.
    "RATE_ERASURE_MAILS_PER_CUSTOMER": "3/h",
    #: How long the link of an erasure confirmation mail works.
    "ERASURE_CONFIRM_MAX_AGE": timedelta(days=2),
    #: Between the confirmed erasure of an account (deactivated at once) and
    #: the erasure itself; the customer may cancel until then.
    "ERASURE_GRACE_PERIOD": timedelta(days=14),
    #: What erasure and retention do with a customer's tickets: ``"anonymise"``
    #: keeps them for statistics without name, address, text, form data or
    #: files; ``"delete"`` removes them.
    "ERASURE_TICKETS": "anonymise",
    #: Closed tickets older than this (since closing) are anonymised or
    #: deleted as ``ERASURE_TICKETS`` says; ``None`` keeps them (the default).
    "CLOSED_TICKET_RETENTION": None,
    #: Mail held for review (unknown senders, failed checks) older than this
    #: is deleted with its raw source; ``None`` keeps it.
    "HELD_MAIL_RETENTION": timedelta(days=90),
    #: Business hours for service targets (``business_hours``): the time
    #: zone, the working days (0 = Monday) and each day's opening and closing
    #: time; public holidays of ``HOLIDAYS_COUNTRY`` (ISO code) and its
    #: ``HOLIDAYS_SUBDIVISION`` (a German state such as ``"BY"``; ``None``:
    #: nationwide holidays only), from the ``holidays`` library, are closed.
    "BUSINESS_TIMEZONE": "Europe/Berlin",
    "BUSINESS_DAYS": [0, 1, 2, 3, 4],
    "BUSINESS_HOURS": ["08:00", "17:00"],
    "HOLIDAYS_COUNTRY": "DE",
    "HOLIDAYS_SUBDIVISION": "BE",
    #: How long before a service target is missed the assignee (else the
    #: staff address) is told, once per target; also the window of the
    #: listing's "due soon" filter.
    "TARGET_WARNING": timedelta(hours=1),
    #: How long the rating links of a "Done" mail work.
    "RATING_LINK_MAX_AGE": timedelta(days=28),
    #: How long after the first rating a customer may change it.
    "RATING_CHANGE_PERIOD": timedelta(days=7),
    #: An agent's ticket screen counts as open this long after its last
    #: sign of life (page load or the page's heartbeat).
    "PRESENCE_TIMEOUT": timedelta(seconds=90),
    #: Addresses of reverse proxies whose ``X-Forwarded-For`` is trusted; the
    #: client IP is the right-most address not in this list.
    "TRUSTED_PROXIES": [],
    #: Dotted path of the host site's adapter: a subclass of
    #: ``vivadesk_wagtail.adapter.DefaultHelpdeskAdapter`` deciding mail
    #: languages, staff recipients, mail rendering and intake rules.
    "ADAPTER": "vivadesk_wagtail.adapter.DefaultHelpdeskAdapter",
}


def user_settings() -> dict[str, Any]:
    """The host project's ``VIVADESK`` dict as it is now (``{}`` if unset).

    A value that is not a dict is treated as unset here; ``checks.py``
    reports it as an error.
    """
    value = getattr(settings, "VIVADESK", None)
    return value if isinstance(value, dict) else {}


def get(name: str) -> Any:
    """Return the current value of ``VIVADESK[name]`` or its default.

    Defaults are handed out as copies where they are mutable, so a caller
    that changes the returned list cannot change the defaults. Read at call
    time, so ``override_settings(VIVADESK={...})`` works in tests and a
    deployment may set only the keys it cares about.
    """
    if name not in DEFAULTS:
        raise KeyError(f"Unknown VIVADESK setting {name!r}")
    user = user_settings()
    if name in user:
        return user[name]
    value = DEFAULTS[name]
    return list(value) if isinstance(value, list) else value


def helpdesk_email() -> str:
    return get("HELPDESK_EMAIL")


def from_email() -> str:
    return get("FROM_EMAIL") or f"VIVA HelpDesk <{helpdesk_email()}>"


def staff_notify_email() -> str:
    return get("STAFF_NOTIFY_EMAIL") or helpdesk_email()


def message_id_domain() -> str:
    return get("MESSAGE_ID_DOMAIN") or helpdesk_email().rpartition("@")[2]


def base_url() -> str:
    return get("BASE_URL").rstrip("/")


#: Added to django-q2's task timeout for :func:`outbox_stuck_after`: the
#: cluster's guard notices an overdue worker within seconds, not at once.
STUCK_MARGIN = timedelta(minutes=1)
#: Used when ``Q_CLUSTER`` names no timeout (``checks.py`` reports that).
STUCK_FALLBACK = timedelta(minutes=10)


def outbox_stuck_after() -> timedelta:
    """How long a mail may stay ``sending`` (or queued but ``pending``)
    before the sweeper takes it again: ``OUTBOX_STUCK_AFTER``, or by default
    the task timeout plus :data:`STUCK_MARGIN`. A task running longer than
    its timeout is killed with its worker, so a row claimed that long ago
    belongs to no living worker."""
    value = get("OUTBOX_STUCK_AFTER")
    if value is not None:
        return value
    cluster = getattr(settings, "Q_CLUSTER", None)
    timeout = cluster.get("timeout") if isinstance(cluster, dict) else None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or timeout <= 0
    ):
        return STUCK_FALLBACK
    return timedelta(seconds=timeout) + STUCK_MARGIN
