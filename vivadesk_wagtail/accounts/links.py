"""Account links with fresh tokens, for mails (absolute, from BASE_URL)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation

from .. import conf
from ..services import customers
from .tokens import activation_token, uid_for


def activation_url(user, language: str) -> str:
    with translation.override(language):
        path = reverse(
            "vivadesk_wagtail:activate",
            args=[uid_for(user), activation_token.make_token(user)],
        )
    return conf.base_url() + path


def password_reset_url(user, language: str) -> str:
    with translation.override(language):
        path = reverse(
            "vivadesk_wagtail:password_reset_confirm",
            args=[uid_for(user), default_token_generator.make_token(user)],
        )
    return conf.base_url() + path


def for_mail(row) -> dict:
    """``activation`` / ``password_reset`` links for account mails, and the
    activation link of a ticket acknowledgement to an unconfirmed customer."""
    user = None
    if row.context.get("user"):
        user = get_user_model().objects.filter(pk=row.context["user"]).first()
    elif row.ticket_id and row.event == "ticket_created":
        user = row.ticket.customer
    if user is None:
        return {}
    links = {}
    if customers.awaiting_confirmation(user):
        links["activation"] = activation_url(user, row.language)
    if row.event == "password_reset":
        links["password_reset"] = password_reset_url(user, row.language)
    return links
