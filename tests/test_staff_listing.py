"""The ticket listing, its filters, search, sorting, bulk actions; the
dashboard panel and the History view."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.staff_support import screen_url, url
from vivadesk_wagtail.models import Category, Ticket, TicketStatus
from vivadesk_wagtail.services import search_index, tickets


def refs(response) -> list[str]:
    """References in the listing's order."""
    assert response.status_code == 200
    return re.findall(r"VIVA-\d+", response.content.decode())


def unique(seq):
    return list(dict.fromkeys(seq))


def make(subject: str, customer=None, **kwargs) -> Ticket:
    return factories.ticket(customer, subject=subject, **kwargs)


@pytest.fixture
def three(db):
    """A (waiting longest), B (assigned, waiting on customer), C (done)."""
    a = make("Alpha")
    b = make("Bravo", factories.customer("b@example.com", name="Berta Beispiel"))
    c = make("Charlie")
    Ticket.objects.filter(pk=a.pk).update(
        customer_activity_at=timezone.now() - timedelta(days=3)
    )
    return a, b, c


@pytest.mark.django_db
def test_default_is_open_tickets_oldest_waiting_first(agent_client, three):
    a, b, c = three
    tickets.change_status(c, TicketStatus.DONE)
    listed = unique(refs(agent_client.get(url("list"))))
    assert listed == [a.reference, b.reference]


@pytest.mark.django_db
def test_filters(agent_client, agent, other_agent, three):
    a, b, c = three
    hardware = Category.objects.create(name="Hardware")
    tickets.assign(b, agent, by=agent)
    tickets.assign(c, other_agent, by=agent)
    tickets.change_status(b, TicketStatus.WAITING, by=agent)
    tickets.set_category(a, hardware, by=agent)
    tickets.change_status(c, TicketStatus.DONE)

    def listed(query):
        return set(refs(agent_client.get(url("list") + query)))

    assert listed("?assignee=me") == {b.reference}
    assert listed("?assignee=none") == {a.reference}
    assert listed(f"?assignee={other_agent.pk}&show=all") == {c.reference}
    assert listed("?show=on_customer") == {b.reference}
    assert listed("?show=on_us") == {a.reference}
    assert listed("?show=finished") == {c.reference}
    assert listed("?status=done") == {c.reference}
    assert listed(f"?category={hardware.pk}") == {a.reference}
    today = timezone.localdate().isoformat()
    assert listed(f"?show=all&created_from={today}") == {
        a.reference,
        b.reference,
        c.reference,
    }
    assert listed("?show=all&created_to=2000-01-01") == set()
    # A forged value is no lookup: the default view is shown.
    assert listed("?assignee=__all__") == {a.reference, b.reference}


@pytest.mark.django_db
def test_search_reference_subject_customer_and_message_text(agent_client, three):
    a, b, c = three
    tickets.add_message(
        c, tickets.NewMessage(body="Der Toner ist leer", kind="customer")
    )
    search_index.update_changed()  # the schedule's batch indexing

    def found(q):
        return set(refs(agent_client.get(url("list") + f"?show=all&q={q}")))

    assert a.reference in found(a.reference)
    assert found("Bravo") == {b.reference}
    assert found("Berta") == {b.reference}
    assert found("b@example.com") >= {b.reference}
    assert found("Toner") == {c.reference}
    assert found("Alp") == {a.reference}  # partial word of the subject
    tickets.change_status(c, TicketStatus.DONE)
    # The default view (open tickets) applies to searches too.
    assert set(refs(agent_client.get(url("list") + "?q=Toner"))) == set()


@pytest.mark.django_db
def test_ordering_only_by_allow_list(agent_client, three):
    a, b, c = three
    default = unique(refs(agent_client.get(url("list"))))
    by_number = unique(refs(agent_client.get(url("list") + "?ordering=-number")))
    assert by_number == [c.reference, b.reference, a.reference]
    for forged in ("customer__password", "secret", "-customer__email", "?"):
        response = agent_client.get(url("list") + f"?ordering={forged}")
        assert unique(refs(response)) == default, forged


@pytest.mark.django_db
def test_listing_queries_do_not_grow_with_tickets(
    agent_client, django_assert_max_num_queries, agent, other_agent
):
    category = Category.objects.create(name="Netz")

    def fill(n):
        for i in range(n):
            ticket = make(f"Ticket {i}", factories.customer(f"k{i}@example.com"))
            tickets.assign(ticket, agent if i % 2 else other_agent, by=agent)
            tickets.set_category(ticket, category, by=agent)

    fill(10)
    with django_assert_max_num_queries(40) as small:
        assert agent_client.get(url("list")).status_code == 200
    fill(50)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = agent_client.get(url("list"))
    assert len(unique(refs(response))) == 50  # one page


@pytest.mark.django_db
def test_dashboard_counts_link_to_the_listing(agent_client, agent, three):
    a, b, c = three
    tickets.assign(a, agent, by=agent)
    tickets.change_status(b, TicketStatus.WAITING, by=agent)
    html = agent_client.get(reverse("wagtailadmin_home")).content.decode()
    panel = html[html.index("vivadesk-helpdesk") :]
    assert url("list") + "?assignee=me" in panel
    assert url("list") + "?show=on_us" in panel
    counts = [int(n) for n in re.findall(r'vd-tile__count">(\d+)<', panel)]
    assert counts == [2, 3, 2, 1]  # new, open, waiting for us, mine


@pytest.mark.django_db
def test_history_shows_readable_entries(agent_client, agent, ticket):
    tickets.add_message(
        ticket, tickets.NewMessage(body="Antwort", kind="staff", author=agent)
    )
    tickets.add_message(
        ticket, tickets.NewMessage(body="Notiz", kind="note", author=agent)
    )
    tickets.assign(ticket, agent, by=agent)
    tickets.set_category(ticket, Category.objects.create(name="Netz"), by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    response = agent_client.get(url("history", ticket.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Replied",
        "Internal note added",
        "Assignee changed from nobody to Anna Agent",
        "Category set to “Netz”",
        "Status changed from “In progress” to “Done”",
    ):
        assert text in html, text
    assert screen_url(ticket) in html


@pytest.mark.django_db
def test_bulk_assign_and_status(agent_client, agent, three):
    a, b, c = three
    bulk = "wagtail_bulk_action"
    assign = reverse(bulk, args=("vivadesk_wagtail", "ticket", "vivadesk_assign"))
    query = f"?id={a.pk}&id={b.pk}"
    assert agent_client.get(assign + query).status_code == 200
    response = agent_client.post(assign + query, {"assignee": agent.pk})
    assert response.status_code == 302
    assert set(Ticket.objects.filter(assignee=agent)) == {a, b}

    tickets.change_status(c, TicketStatus.DONE)
    tickets.change_status(c, TicketStatus.CLOSED)
    status = reverse(bulk, args=("vivadesk_wagtail", "ticket", "vivadesk_status"))
    query += f"&id={c.pk}"
    response = agent_client.post(status + query, {"status": "done"})
    assert response.status_code == 302
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "done", b.pk: "done", c.pk: "closed"}


@pytest.mark.django_db
def test_admin_screens_render_in_german(client, agent, ticket):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(agent)
    profile.preferred_language = "de"
    profile.save()
    client.force_login(agent)
    for address in (
        url("list"),
        screen_url(ticket),
        url("history", ticket.pk),
        reverse("wagtailadmin_home"),
    ):
        response = client.get(address)
        assert response.status_code == 200, address
        assert 'lang="de"' in response.content.decode()
