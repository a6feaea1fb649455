"""Rendering and sending one outbox row.

Each mail is a template triplet under ``vivadesk_wagtail/mail/``:
``<event>_subject.txt``, ``<event>.txt`` and ``<event>.html``, rendered inside
``translation.override(row.language)`` (a background task has no language of
its own). Customer text only ever enters as context — autoescaped in the HTML
part, never part of template source.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation

from .. import conf
from ..models import CustomerProfile, OutboundEmail, TicketMessage
from ..portal import links
from ..services.tickets import clean_subject

TEMPLATE_DIR = "vivadesk_wagtail/mail"
#: Our loop-detection header: mail carrying it is our own coming back.
LOOP_HEADER = "X-Vivadesk-Loop"
#: Mails that answer the customer's own action automatically (RFC 3834).
AUTO_REPLIED_EVENTS = {"ticket_created"}


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): do not try again."""


class TemporaryFailure(Exception):
    """The mail could not be handed over now (refused connection, 4xx)."""


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def context_for(row: OutboundEmail) -> dict:
    ticket = row.ticket
    context = {
        "ticket": ticket,
        "customer": ticket.customer if ticket else None,
        "helpdesk_email": conf.helpdesk_email(),
        "recipient": row.recipient,
        "links": links.for_mail(row),
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
    return context


def _confirmed(ticket) -> bool:
    if ticket is None:
        return False
    profile = CustomerProfile.objects.filter(user_id=ticket.customer_id).first()
    return bool(profile and profile.is_confirmed)


def render(row: OutboundEmail) -> Rendered:
    with translation.override(row.language):
        context = context_for(row)
        subject = render_to_string(f"{TEMPLATE_DIR}/{row.event}_subject.txt", context)
        text = render_to_string(f"{TEMPLATE_DIR}/{row.event}.txt", context)
        html = render_to_string(f"{TEMPLATE_DIR}/{row.event}.html", context)
    subject = clean_subject(subject)
    if row.ticket and f"[{row.ticket.reference}]" not in subject:
        subject = clean_subject(f"[{row.ticket.reference}] {subject}")
    return Rendered(subject=subject, text=text.strip() + "\n", html=html)


def bounce_address(row: OutboundEmail) -> str:
    """The envelope sender: ``helpdesk+bounce-<id>@…``, so a bounce names the
    outbox row it belongs to."""
    local, _at, domain = conf.helpdesk_email().rpartition("@")
    return f"{local}+bounce-{row.pk}@{domain}"


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


def send(mail: EmailMultiAlternatives) -> None:
    """Hand the mail to the configured backend, classifying failures."""
    try:
        get_connection(fail_silently=False).send_messages([mail])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            raise PermanentFailure(_describe(exc)) from exc
        raise TemporaryFailure(_describe(exc)) from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentFailure(_describe(exc)) from exc
        raise TemporaryFailure(_describe(exc)) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
