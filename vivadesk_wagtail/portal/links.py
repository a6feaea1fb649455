"""Absolute links into the site for mails, built from ``VIVADESK["BASE_URL"]``
and the recipient's language, never from a request's Host header."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from .. import conf


def absolute(path: str) -> str:
    return conf.base_url() + path


def admin_ticket_url(ticket) -> str:
    return absolute(
        reverse("wagtailsnippets_vivadesk_wagtail_ticket:inspect", args=[ticket.pk])
    )


def for_mail(row) -> dict:
    """The links a mail template may use, in the row's language."""
    with translation.override(row.language):
        links = {"login": absolute(reverse("vivadesk_wagtail:login"))}
    if row.ticket_id:
        links["admin_ticket"] = admin_ticket_url(row.ticket)
    return links
