"""Agents read the ticket statuses from their side ("Waiting for customer")
on every staff screen, while the customer's portal and mail keep the
customer's side ("Waiting for your reply"); the stored values stay."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests import factories
from tests.portal_support import url as portal_url
from tests.staff_support import screen_url, url
from vivadesk_wagtail.models import Ticket, TicketStatus
from vivadesk_wagtail.services import tickets

AGENT_SIDE = "Waiting for customer"
CUSTOMER_SIDE = "Waiting for your reply"


@pytest.fixture
def waiting(db, agent, django_capture_on_commit_callbacks):
    """Two tickets of one customer (who reads English), both waiting for the
    customer; the mails about it sent."""
    customer = factories.customer("kunde@example.com", name="Karla Kunde")
    with django_capture_on_commit_callbacks(execute=True):
        first = factories.ticket(customer, subject="Drucker", language="en")
        second = factories.ticket(customer, subject="Scanner", language="en")
        for ticket in (first, second):
            tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    return customer, first, second


def page(client, address: str) -> str:
    response = client.get(address)
    assert response.status_code == 200, address
    return response.content.decode()


@pytest.mark.django_db
def test_staff_screens_show_the_agents_side(agent_client, waiting):
    _customer, first, second = waiting
    bulk = reverse(
        "wagtail_bulk_action", args=("vivadesk_wagtail", "ticket", "vivadesk_status")
    )
    screens = {
        "listing and filters": url("list") + "?show=all",
        "ticket screen": screen_url(first),
        "history": url("history", first.pk),
        "bulk action": f"{bulk}?id={first.pk}&id={second.pk}",
    }
    for name, address in screens.items():
        html = page(agent_client, address)
        assert AGENT_SIDE in html, name
        assert CUSTOMER_SIDE not in html, name
    history = page(agent_client, url("history", first.pk))
    assert f"Status changed from “New” to “{AGENT_SIDE}”" in history
    # The status filter and the bulk form still post the stored value.
    listed = page(agent_client, url("list") + "?status=waiting")
    assert first.reference in listed and second.reference in listed
    response = agent_client.post(
        f"{bulk}?id={first.pk}", {"status": TicketStatus.OPEN.value}
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=first.pk).status == TicketStatus.OPEN


@pytest.mark.django_db
def test_customer_and_mail_keep_the_customers_side(client, waiting):
    customer, first, _second = waiting
    client.force_login(customer)
    html = page(client, portal_url("ticket", first.reference, lang="en"))
    assert CUSTOMER_SIDE in html
    assert AGENT_SIDE not in html
    about_status = [m for m in mail.outbox if CUSTOMER_SIDE in m.body]
    assert about_status, [m.subject for m in mail.outbox]
    assert not [m for m in mail.outbox if AGENT_SIDE in m.body]


@pytest.mark.django_db
def test_german_agents_read_wartet_auf_kunde(agent_client, agent, waiting):
    profile = UserProfile.get_for_user(agent)
    profile.preferred_language = "de"
    profile.save()
    _customer, first, _second = waiting
    for address in (url("list") + "?show=all", screen_url(first)):
        html = page(agent_client, address)
        assert "Wartet auf Ihre Antwort" not in html
        assert "Wartet auf Kunde" in html
