"""Absolute links into the site for mails, built from ``VIVADESK["BASE_URL"]``
and the recipient's language, never from a request's Host header."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from ..site_links import absolute, admin_ticket_url, portal_ticket_url

#: Mails that go to staff, not to the ticket's customer: they get the admin
#: link only, never portal links (and customers never get the admin link).
STAFF_EVENTS = frozenset(
    {"staff_new_ticket", "customer_replied", "staff_note", "staff_target_warning"}
)


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
