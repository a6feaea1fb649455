"""Account mails (activation link, password reset): outbox rows without a
ticket. Their links carry fresh tokens made when the mail is rendered."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from ..languages import first_offered
from ..models import OutboundEmail
from ..services import customers
from ..tasks import enqueue
from .notifications import new_message_id

ACCOUNT_EVENTS = ("activation", "password_reset")


def language_of(user) -> str:
    profile = customers.profile_of(user)
    return first_offered(
        profile.language, translation.get_language(), settings.LANGUAGE_CODE
    )


def queue(event: str, user, language: str | None = None) -> OutboundEmail | None:
    if event not in ACCOUNT_EVENTS:
        raise ValueError(event)
    profile = customers.profile_of(user)
    if profile.mail_undeliverable:
        return None
    row = OutboundEmail.objects.create(
        event=event,
        context={"user": user.pk},
        recipient=profile.email,
        language=language or language_of(user),
        message_id=new_message_id(None),
    )
    enqueue("vivadesk_wagtail.tasks.send_outbound", row.pk)
    return row
