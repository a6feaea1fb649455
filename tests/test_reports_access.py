"""Who may read the service reports (superusers and agents; not editors,
customers or anonymous visitors, not even their menu item), and a constant
number of queries per report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories, staff_support
from tests.reports_support import (
    BACKLOG,
    BACKLOG_RESULTS,
    PERIOD,
    SERVICE,
    SERVICE_RESULTS,
    W45,
    W46,
    berlin,
    customer_fixture,  # noqa: F401 - the fixture customer
    make_ticket,
    rate,
    superuser_fixture,  # noqa: F401 - the fixture superuser
    url,
    weeks_data_fixture,  # noqa: F401 - the fixture weeks_data
)
from tests.staff_support import assert_denied
from vivadesk_wagtail.models import Category, Rating, TicketStatus

# --- Access ----------------------------------------------------------------------


ALL_URLS = [
    (SERVICE, {}),
    (SERVICE_RESULTS, {}),
    (SERVICE, {"export": "csv"}),
    (SERVICE, {"export": "xlsx"}),
    (BACKLOG, {}),
    (BACKLOG_RESULTS, {}),
    (BACKLOG, {"export": "csv"}),
    (BACKLOG, {"export": "xlsx"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["superuser", "agent"])
def test_superusers_and_agents_read_the_reports(client, request, who, weeks_data):
    client.force_login(request.getfixturevalue(who))
    for name, params in ALL_URLS:
        assert client.get(url(name, **params)).status_code == 200, name
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse(SERVICE) in home  # the Reports menu item


@pytest.mark.django_db
def test_an_agent_holding_only_view_ticket_reads_them(client, weeks_data):
    user = factories.StaffFactory(username="lean")
    user.groups.add(
        staff_support.group(
            "Lean", "wagtailadmin.access_admin", "vivadesk_wagtail.view_ticket"
        )
    )
    client.force_login(user)
    assert client.get(url(SERVICE)).status_code == 200


@pytest.mark.django_db
def test_editors_are_refused_and_see_no_menu_item(client, editor, weeks_data):
    client.force_login(editor)
    for name, params in ALL_URLS:
        response = client.get(url(name, **params))
        assert_denied(response, name)
        assert b"W45/2026" not in response.content
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse(SERVICE) not in home


@pytest.mark.django_db
def test_a_deactivated_agent_is_refused(client, agent, weeks_data):
    agent.is_active = False
    agent.save()
    client.force_login(agent)
    response = client.get(url(SERVICE))
    assert response.status_code in (302, 403)
    assert b"vd-report" not in response.content


@pytest.mark.django_db
def test_customers_and_anonymous_visitors_are_sent_away(client, customer, weeks_data):
    for name, params in ALL_URLS:
        response = client.get(url(name, **params))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("wagtailadmin_login"))
    client.force_login(customer)
    for name, params in ALL_URLS:
        response = client.get(url(name, **params))
        assert response.status_code in (302, 403), name
        assert b"vd-report" not in response.content


# --- Speed -------------------------------------------------------------------------


def page_queries(client, address: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_the_reports_need_a_constant_number_of_queries(
    client, superuser, customer, agent, django_assert_max_num_queries
):
    client.force_login(superuser)
    addresses = [
        url(SERVICE, **PERIOD),
        url(SERVICE, export="xlsx", **PERIOD),
        url(BACKLOG),
        url(BACKLOG, export="csv"),
    ]
    few = [page_queries(client, address) for address in addresses]
    category = Category.objects.create(name="Netz")
    for n in range(40):
        ticket = make_ticket(
            customer,
            berlin(W45 + timedelta(days=n % 20)),
            first_response_minutes=n,
            resolved_at=berlin(W46 + timedelta(days=n % 10)),
            resolution_minutes=n * 3,
            category=category if n % 2 else None,
            assignee=agent if n % 3 else None,
            status=[TicketStatus.NEW, TicketStatus.DONE][n % 2],
        )
        if n % 4 == 0:
            rate(ticket, Rating.GOOD, berlin(W46))
    assert [page_queries(client, address) for address in addresses] == few
    with django_assert_max_num_queries(12):
        client.get(url(SERVICE, **PERIOD))


@pytest.mark.django_db
def test_the_views_refuse_non_agents_wherever_they_are_mounted(rf, editor):
    """The views check for agents themselves too, not only their URLs."""
    from django.core.exceptions import PermissionDenied

    from vivadesk_wagtail.staff.reports import BacklogReportView, ServiceReportView

    for view in (ServiceReportView, BacklogReportView):
        request = rf.get("/")
        request.user = editor
        with pytest.raises(PermissionDenied):
            view.as_view()(request)


@pytest.mark.django_db
def test_the_reports_change_nothing_and_take_no_posts(client, agent, weeks_data):
    client.force_login(agent)
    response = client.post(url(SERVICE), {"period_from": "2026-01-01"})
    assert response.status_code == 405
