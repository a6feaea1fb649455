"""Rendering and sending one outbox row.

Each mail is a template triplet under ``vivadesk_wagtail/mail/``
(``<event>_subject.txt``, ``<event>.txt``, ``<event>.html``), rendered by
the site's adapter (:func:`render`).
"""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from collections.abc import Callable

from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import translation

from .. import conf
from ..accounts import links as account_links
from ..adapter import Rendered, get_adapter
from ..languages import first_offered
from ..models import CustomerProfile, OutboundEmail, TicketMessage, TicketStatus
from ..portal import links, satisfaction_tokens
from . import account_notifications, notifications, verp

logger = logging.getLogger(__name__)

TEMPLATE_DIR = "vivadesk_wagtail/mail"
#: Our loop-detection header: mail carrying it is our own coming back.
LOOP_HEADER = "X-Vivadesk-Loop"
#: Mails that answer the customer's own action automatically (RFC 3834).
AUTO_REPLIED_EVENTS = {"ticket_created"}
#: Longest subject we send (the stored ``OutboundEmail.subject`` holds 255).
MAX_SUBJECT = 255


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): do not try again.

    ``recipient_refused`` is true when the server refused the recipient
    address itself (5xx on ``RCPT TO``): the address is dead.
    """

    def __init__(self, message: str, *, recipient_refused: bool = False):
        super().__init__(message)
        self.recipient_refused = recipient_refused


class TemporaryFailure(Exception):
    """The mail could not be handed over now (refused connection, 4xx)."""


def context_for(row: OutboundEmail) -> dict:
    """The template context of a row, re-read from the database (call it
    inside ``translation.override(row.language)``)."""
    ticket = row.ticket
    context = {
        "ticket": ticket,
        "customer": ticket.customer if ticket else None,
        "helpdesk_email": conf.helpdesk_email(),
        "recipient": row.recipient,
        "links": _links(row),
        "confirmed": _confirmed(ticket),
    }
    message_pk = row.context.get("message")
    if message_pk:
        context["message"] = (
            TicketMessage.objects.filter(pk=message_pk)
            .prefetch_related("attachments")
            .first()
        )
    for key in ("old", "new"):
        if key in row.context:
            context[f"{key}_status"] = row.context[key]
    # The status as it was when the event happened, not when the mail is
    # finally sent (a retry an hour later must not change what the mail says).
    status = row.context.get("new") or row.context.get("status")
    if not status and ticket is not None:
        status = ticket.status
    context["status"] = status or ""
    context["status_label"] = _status_label(status)
    if row.context.get("user"):
        from django.contrib.auth import get_user_model

        context["user"] = (
            get_user_model().objects.filter(pk=row.context["user"]).first()
        )
    context.update(notifications.template_extras(row, context))
    context.update(account_notifications.template_extras(row, context))
    return context


def _links(row: OutboundEmail) -> dict:
    return {
        **links.for_mail(row),
        **account_links.for_mail(row),
        **satisfaction_tokens.for_mail(row),
    }


def _status_label(status: str | None) -> str:
    try:
        return str(TicketStatus(status).label)
    except ValueError:
        return status or ""


def _confirmed(ticket) -> bool:
    if ticket is None:
        return False
    profile = CustomerProfile.objects.filter(user_id=ticket.customer_id).first()
    return bool(profile and profile.is_confirmed)


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """A header value on one line: no line breaks or other control
    characters, runs of white space collapsed, at most ``limit`` characters."""
    cleaned = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in text or ""
    )
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def render(row: OutboundEmail) -> Rendered:
    """The row's mail, rendered by ``adapter.render_mail`` inside
    ``translation.override(row.language)`` (a background task has no
    language of its own). Customer text only ever enters as context —
    autoescaped in the HTML part, never part of template source. The subject
    and the text part are rendered without HTML escaping (they are not
    HTML), the subject is then forced onto one clean line."""
    row.language = first_offered(row.language)  # for this rendering only
    with translation.override(row.language):
        context = context_for(row)
        mail = get_adapter().render_mail(f"{TEMPLATE_DIR}/{row.event}", context)
    subject = one_line(mail.subject)
    if row.ticket and f"[{row.ticket.reference}]" not in subject:
        subject = one_line(f"[{row.ticket.reference}] {subject}")
    return Rendered(subject=subject, text=mail.text.strip() + "\n", html=mail.html)


def bounce_address(row: OutboundEmail) -> str:
    """The envelope sender: ``helpdesk+bounce-<signed token>@…``, so a bounce
    names the outbox row it belongs to and cannot be forged (``verp``)."""
    return verp.address(row.pk)


def build(row: OutboundEmail, rendered: Rendered) -> EmailMultiAlternatives:
    headers = {
        "From": conf.from_email(),
        "Message-ID": row.message_id,
        "Reply-To": conf.helpdesk_email(),
        "Auto-Submitted": "auto-replied"
        if row.event in AUTO_REPLIED_EVENTS
        else "auto-generated",
        "X-Auto-Response-Suppress": "All",
        LOOP_HEADER: conf.message_id_domain(),
    }
    if row.in_reply_to:
        headers["In-Reply-To"] = row.in_reply_to
    if row.references:
        headers["References"] = row.references
    mail = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=bounce_address(row),
        to=[row.recipient],
        headers=headers,
    )
    mail.attach_alternative(rendered.html, "text/html")
    return mail


def send(
    mail: EmailMultiAlternatives, *, accepted: Callable[[], None] | None = None
) -> None:
    """Hand the mail to the configured backend, classifying failures.

    Only a 5xx on the recipient (or on the message) is permanent. A refused
    login or envelope sender is our own configuration, not the customer's
    address: it is retried like a 4xx, so fixing the settings lets the mail
    through, and it never marks a customer's address as undeliverable.

    Only what goes wrong before the server accepted the message (its 250
    after ``DATA``) is a failure. Once it did, the mail is handed over:
    closing the connection afterwards (``QUIT`` to a server that died, reset
    or answered garbage) cannot fail the send, which would send it again.
    Django's SMTP backend closes inside ``send_messages`` and re-raises some
    of those errors (any ``SMTPException`` but a disconnect), so the
    connection is opened and closed here, around the hand-over.

    ``accepted`` is called right after the server's 250, before the
    connection is closed (a ``QUIT`` can take up to ``EMAIL_TIMEOUT``): the
    caller records the hand-over as early as it can. It must not raise.
    """
    connection = get_connection(fail_silently=False)
    try:
        _hand_over(connection, mail)
        if accepted is not None:
            accepted()
    finally:
        _close(connection)


def _hand_over(connection, mail: EmailMultiAlternatives) -> None:
    """Open the connection and send; every error raised is from before the
    server accepted the message."""
    try:
        connection.open()
        connection.send_messages([mail])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise PermanentFailure(_describe(exc), recipient_refused=True) from exc
        raise TemporaryFailure(_describe(exc)) from exc
    except (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused) as exc:
        raise TemporaryFailure(_describe(exc)) from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentFailure(_describe(exc)) from exc
        raise TemporaryFailure(_describe(exc)) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(_describe(exc)) from exc


def _close(connection) -> None:
    """Close the backend's connection; an error on the way out only logs."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - the outcome of the send is decided
        logger.warning("Closing the mail connection failed", exc_info=True)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
