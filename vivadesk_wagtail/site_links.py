"""Absolute links into the site, built from ``VIVADESK["BASE_URL"]`` (never
from a request's Host header) in the active language: for mails
(``portal.links``) and for texts the services fill in (text modules)."""

from __future__ import annotations

from django.urls import reverse

from . import conf


def absolute(path: str) -> str:
    return conf.base_url() + path


def admin_ticket_url(ticket) -> str:
    return absolute(
        reverse("wagtailsnippets_vivadesk_wagtail_ticket:inspect", args=[ticket.pk])
    )


def portal_ticket_url(ticket) -> str:
    """The ticket page of the portal, in the active language."""
    return absolute(reverse("vivadesk_wagtail:ticket", args=[ticket.reference]))
