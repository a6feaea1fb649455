"""Absolute links into the site for mails, built from ``VIVADESK["BASE_URL"]``
and the recipient's language, never from a request's Host header."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from .. import conf

#: Mails that go to staff, not to the ticket's customer: they get the admin
#: link only, never portal links (and customers never get the admin link).
STAFF_EVENTS = frozenset(
    {"staff_new_ticket", "customer_replied", "staff_note", "staff_target_warning"}
)


def absolute(path: str) -> str:
    return conf.base_url() + path


def admin_ticket_url(ticket) -> str:
    return absolute(
        reverse("wagtailsnippets_vivadesk_wagtail_ticket:inspect", args=[ticket.pk])
    )


def portal_ticket_url(ticket) -> str:
    """The ticket page of the portal, in the active language."""
    return absolute(reverse("vivadesk_wagtail:ticket", args=[ticket.reference]))


def for_mail(row) -> dict:
    """The links a mail template may use, in the row's language."""
    to_customer = row.event not in STAFF_EVENTS
    with translation.override(row.language):
        links = {"login": absolute(reverse("vivadesk_wagtail:login"))}
        if to_customer:
            links["my_requests"] = absolute(reverse("vivadesk_wagtail:my_requests"))
            if row.ticket_id:
                links["ticket"] = portal_ticket_url(row.ticket)
    if row.ticket_id and not to_customer:
        links["admin_ticket"] = admin_ticket_url(row.ticket)
    return links
