"""Account links with fresh tokens, for mails (absolute, from BASE_URL)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation

from .. import conf
from ..models import DataRequest
from ..services import customers
from . import erasure_tokens
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


def erasure_url(request: DataRequest, purpose: str, language: str) -> str:
    """The confirm or cancel link of an erasure, with a fresh token."""
    name = {
        erasure_tokens.CONFIRM: "vivadesk_wagtail:erasure_confirm",
        erasure_tokens.CANCEL: "vivadesk_wagtail:erasure_cancel",
    }[purpose]
    with translation.override(language):
        path = reverse(name, args=[erasure_tokens.make(request, purpose)])
    return conf.base_url() + path


def account_url(language: str) -> str:
    """The account page's "Your data" section (the export is downloaded
    there, after logging in)."""
    with translation.override(language):
        return conf.base_url() + reverse("vivadesk_wagtail:account") + "#your-data"


def data_request_links(row) -> dict:
    """The links of a data-protection mail (``row.context["request"]``)."""
    request = DataRequest.objects.filter(pk=row.context.get("request")).first()
    if request is None:
        return {}
    if row.event == "erasure_confirm":
        return {"erasure_confirm": erasure_url(request, "confirm", row.language)}
    if row.event == "erasure_scheduled":
        return {"erasure_cancel": erasure_url(request, "cancel", row.language)}
    if row.event == "export_ready":
        return {"account": account_url(row.language)}
    return {}


def for_mail(row) -> dict:
    """``activation`` / ``password_reset`` links for account mails, the
    activation link of a ticket acknowledgement to an unconfirmed customer,
    and the links of the data-protection mails."""
    if row.context.get("request"):
        return data_request_links(row)
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
