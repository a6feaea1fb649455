"""The data-protection side of the Wagtail admin: the register of data
requests (a report with CSV/XLSX export, no personal data) and the agents'
"delete this customer's account" page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from wagtail.models import ModelLogEntry

from tests import factories, staff_support
from tests.staff_support import assert_denied, screen_url
from vivadesk_wagtail.models import (
    DataRequest,
    DataRequestKind,
    DataRequestState,
    ErasureReason,
    RequestedBy,
)

REGISTER = "vivadesk_privacy_register"
REGISTER_RESULTS = "vivadesk_privacy_register_results"

#: Distinctive customers: none of these strings may appear in the register.
CUSTOMERS = [
    ("zacharias.quenzel@example.org", "Zacharias Quenzel"),
    ("philippa.xantippe@example.net", "Philippa Xantippe"),
    ("ottokar.wuselmann@example.com", "Ottokar Wuselmann"),
]
PERSONAL = [
    part for email, name in CUSTOMERS for part in (email, *name.split(), "example.")
]


def register_url(**params) -> str:
    from urllib.parse import urlencode

    url = reverse(REGISTER)
    return f"{url}?{urlencode(params)}" if params else url


def erase_url(user, next_url: str = "") -> str:
    url = reverse("vivadesk_erase_customer", args=(user.pk,))
    return f"{url}?next={next_url}" if next_url else url


def make_request(user, kind, state, *, days_ago=0, **fields) -> DataRequest:
    row = DataRequest.objects.create(kind=kind, state=state, user=user, **fields)
    created = timezone.now() - timedelta(days=days_ago)
    DataRequest.objects.filter(pk=row.pk).update(created_at=created)
    row.refresh_from_db()
    return row


@pytest.fixture
def customers(db):
    return [
        factories.customer(email, name=name, language="de") for email, name in CUSTOMERS
    ]


@pytest.fixture
def register_rows(customers, agent):
    """Requests of both kinds in several states, by customers and an agent."""
    now = timezone.now()
    first, second, third = customers
    return [
        make_request(
            first,
            DataRequestKind.EXPORT,
            DataRequestState.READY,
            days_ago=40,
            confirmed_at=now,
            completed_at=now,
            summary={"tickets": 4, "messages": 9, "was_active": True},
        ),
        make_request(second, DataRequestKind.EXPORT, DataRequestState.PENDING),
        make_request(
            first, DataRequestKind.ERASURE, DataRequestState.AWAITING, days_ago=3
        ),
        make_request(
            third,
            DataRequestKind.ERASURE,
            DataRequestState.SCHEDULED,
            days_ago=1,
            requested_by=RequestedBy.AGENT,
            agent=agent,
            reason=ErasureReason.LEGAL,
            confirmed_at=now,
            due_at=now + timedelta(days=14),
        ),
        make_request(
            None,
            DataRequestKind.ERASURE,
            DataRequestState.DONE,
            days_ago=20,
            completed_at=now,
            summary={"tickets_anonymised": 3},
        ),
    ]


@pytest.fixture
def dpo(db):
    """A data-protection officer: admin access and ``view_datarequest``."""
    user = factories.StaffFactory(username="dpo", first_name="Dora", last_name="DPO")
    user.groups.add(
        staff_support.group(
            "Data protection",
            "wagtailadmin.access_admin",
            "vivadesk_wagtail.view_datarequest",
        )
    )
    return speaks_english(user)


@pytest.fixture
def superuser(db):
    return speaks_english(
        get_user_model().objects.create_superuser(
            "root", "root@viva.de", "root-pass-123"
        )
    )


def speaks_english(user):
    """The admin follows the user's Wagtail profile, not the request."""
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    return user


def assert_no_personal_data(text: str) -> None:
    for part in PERSONAL:
        assert part not in text, part


# --- The register: access ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["superuser", "dpo"])
def test_superusers_and_holders_of_view_datarequest_read_the_register(
    client, request, who, register_rows
):
    client.force_login(request.getfixturevalue(who))
    with translation.override("en"):
        response = client.get(register_url())
        home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert response.status_code == 200
    html = response.content.decode()
    assert "Data-protection requests" in html
    assert reverse(REGISTER) in home  # the Reports menu item


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["agent", "editor"])
def test_agents_and_editors_are_refused_the_register(
    client, request, who, register_rows
):
    client.force_login(request.getfixturevalue(who))
    for url in (
        register_url(),
        reverse(REGISTER_RESULTS),
        register_url(export="csv"),
        register_url(export="xlsx"),
    ):
        response = client.get(url)
        assert_denied(response, url)
        assert b"Ready for download" not in response.content
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse(REGISTER) not in home


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login(client, register_rows):
    response = client.get(register_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


# --- The register: rows and filters ------------------------------------------


def row_numbers(html: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r"<tr[^>]*>\s*<td>(\d+)</td>", html)]


@pytest.mark.django_db
def test_the_register_lists_every_request_without_personal_data(
    client, superuser, register_rows
):
    client.force_login(superuser)
    with translation.override("en"):
        html = client.get(register_url()).content.decode()
    assert row_numbers(html) == [
        r.pk for r in sorted(register_rows, key=lambda r: r.created_at, reverse=True)
    ]
    for text in (
        "Data export",
        "Account erasure",
        "Ready for download",
        "Being prepared",
        "Awaiting confirmation",
        "Scheduled",
        "Done",
        "Legal obligation",
        "Agent",
        "Customer",
        "messages: 9, requests: 4",
        "requests anonymised: 3",
    ):
        assert text in html, text
    assert "was active" not in html
    assert_no_personal_data(html)
    assert "Anna" not in html  # not even the agent's name


@pytest.mark.django_db
def test_the_register_is_german_by_default(client, register_rows):
    client.force_login(
        get_user_model().objects.create_superuser("chef", "chef@viva.de", "x-pass-1")
    )
    html = client.get(register_url()).content.decode()
    assert "Datenschutz-Anfragen" in html
    assert "Angefragt von" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "export"}, [1, 0]),
        ({"kind": "erasure"}, [3, 2, 4]),
        ({"state": "scheduled"}, [3]),
        ({"kind": "erasure", "state": "done"}, [4]),
        ({"created_at_from": "DAYS:45", "created_at_to": "DAYS:10"}, [4, 0]),
        ({"created_at_from": "DAYS:2"}, [1, 3]),
    ],
)
def test_the_register_filters_by_kind_state_and_date(
    client, superuser, register_rows, params, expected
):
    params = {
        key: _days_ago(value) if str(value).startswith("DAYS:") else value
        for key, value in params.items()
    }
    client.force_login(superuser)
    html = client.get(reverse(REGISTER_RESULTS), params).content.decode()
    assert row_numbers(html) == [register_rows[i].pk for i in expected]


def _days_ago(value: str) -> str:
    days = int(value.split(":")[1])
    return (timezone.localdate() - timedelta(days=days)).isoformat()


@pytest.mark.django_db
def test_the_register_needs_no_query_per_row(client, superuser, customers):
    client.force_login(superuser)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(register_url()).status_code == 200
        return len(captured)

    make_request(customers[0], DataRequestKind.EXPORT, DataRequestState.READY)
    few = queries()
    for i in range(12):
        make_request(
            customers[i % 3],
            DataRequestKind.ERASURE,
            DataRequestState.SCHEDULED,
            requested_by=RequestedBy.AGENT,
            reason=ErasureReason.DPO,
            due_at=timezone.now(),
            summary={"tickets": i},
        )
    assert queries() == few


# --- The register: spreadsheet export ----------------------------------------


@pytest.mark.django_db
def test_the_csv_export_has_every_row_and_no_personal_data(client, dpo, register_rows):
    client.force_login(dpo)
    with translation.override("en"):
        response = client.get(register_url(export="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "Number",
        "Kind",
        "Requested by",
        "Reason",
        "State",
        "Requested",
        "Confirmed",
        "Due",
        "Completed",
        "Summary",
    ]
    by_number = {int(row[0]): row for row in rows[1:]}
    assert set(by_number) == {r.pk for r in register_rows}
    scheduled = by_number[register_rows[3].pk]
    assert scheduled[1:5] == [
        "Account erasure",
        "Agent",
        "Legal obligation",
        "Scheduled",
    ]
    assert by_number[register_rows[0].pk][9] == "messages: 9, requests: 4"
    assert_no_personal_data(text)


@pytest.mark.django_db
def test_the_xlsx_export_has_the_filtered_rows_and_no_personal_data(
    client, superuser, register_rows
):
    from openpyxl import load_workbook

    client.force_login(superuser)
    with translation.override("en"):
        response = client.get(register_url(export="xlsx", kind="erasure"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Number", "Kind", "Requested by"]
    assert sorted(row[0] for row in rows[1:]) == sorted(r.pk for r in register_rows[2:])
    assert {row[4] for row in rows[1:]} == {
        "Awaiting confirmation",
        "Scheduled",
        "Done",
    }
    assert_no_personal_data(repr(rows))


# --- The agents' erase page ---------------------------------------------------


@pytest.fixture
def customer_ticket(ticket):
    return ticket


@pytest.mark.django_db
def test_the_ticket_screen_links_to_the_erase_page(agent_client, customer_ticket):
    html = agent_client.get(screen_url(customer_ticket)).content.decode()
    assert erase_url(customer_ticket.customer) in html
    assert "Delete customer account…" in html


@pytest.mark.django_db
def test_get_shows_the_form_and_changes_nothing(agent_client, customer_ticket):
    customer = customer_ticket.customer
    response = agent_client.get(erase_url(customer))
    assert response.status_code == 200
    html = response.content.decode()
    assert customer.email in html
    assert "After 14 days" in html
    assert "kept for statistics" in html
    assert 'name="reason"' in html and 'name="confirm"' in html
    with translation.override("en"):
        labels = [str(reason.label) for reason in ErasureReason]
    assert labels[0] == "The customer asked for it"
    for label in labels:
        assert label in html
    customer.refresh_from_db()
    assert customer.is_active
    assert not DataRequest.objects.exists()
    assert not ModelLogEntry.objects.filter(action__startswith="vivadesk.erasure")


@pytest.mark.django_db
def test_the_page_says_tickets_are_deleted_when_so_configured(
    agent_client, customer_ticket, settings
):
    settings.VIVADESK = {**settings.VIVADESK, "ERASURE_TICKETS": "delete"}
    html = agent_client.get(erase_url(customer_ticket.customer)).content.decode()
    assert "deleted with their messages and files" in html


@pytest.mark.django_db
def test_reason_and_confirmation_are_required(agent_client, customer_ticket):
    customer = customer_ticket.customer
    for data in (
        {"reason": "legal"},
        {"confirm": "on"},
        {"reason": "x", "confirm": "on"},
    ):
        response = agent_client.post(erase_url(customer), data)
        assert response.status_code == 200
        assert b"This field is required" in response.content or (
            b"Select a valid choice" in response.content
        )
    customer.refresh_from_db()
    assert customer.is_active
    assert not DataRequest.objects.exists()


@pytest.mark.django_db
def test_post_schedules_the_erasure(
    agent_client, agent, customer_ticket, django_capture_on_commit_callbacks
):
    customer = customer_ticket.customer
    back = screen_url(customer_ticket)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            erase_url(customer),
            {"reason": "customer_asked", "confirm": "on", "next": back},
        )
    assert response.status_code == 302
    assert response["Location"] == back
    request = DataRequest.objects.get()
    assert request.kind == DataRequestKind.ERASURE
    assert request.state == DataRequestState.SCHEDULED
    assert request.requested_by == RequestedBy.AGENT
    assert request.agent == agent
    assert request.reason == ErasureReason.CUSTOMER_ASKED
    assert request.user == customer
    customer.refresh_from_db()
    assert not customer.is_active

    # Back on the ticket screen: the success message and the notice.
    html = agent_client.get(back).content.decode()
    with translation.override("en"):
        date = date_format(timezone.localtime(request.due_at), "DATE_FORMAT")
    assert f"The account is deactivated and will be deleted on {date}." in html
    assert f"Account will be deleted on {date}" in html
    assert erase_url(customer) not in html

    entry = ModelLogEntry.objects.get(action="vivadesk.erasure.scheduled")
    assert entry.object_id == str(request.pk)
    assert entry.user == agent
    assert entry.label == f"Account erasure #{request.pk}"
    stored = f"{entry.label} {entry.data}"
    assert "Erika" not in stored and "Mustermann" not in stored
    assert customer.email not in stored
    with translation.override("en"):
        assert str(entry.message) == (
            "Account erasure scheduled by an agent (reason: The customer asked for it)"
        )
        assert str(entry.formatter.label) == "Erasure scheduled"


@pytest.mark.django_db
def test_the_entry_is_in_the_site_history_for_the_dpo(
    client, agent_client, dpo, customer_ticket
):
    customer = customer_ticket.customer
    agent_client.post(erase_url(customer), {"reason": "dpo", "confirm": "on"})
    request = DataRequest.objects.get()
    client.force_login(dpo)
    with translation.override("en"):
        html = client.get(reverse("wagtailadmin_reports:site_history")).content.decode()
    assert f"Account erasure #{request.pk}" in html
    assert (
        "Account erasure scheduled by an agent "
        "(reason: Instruction of the data-protection officer)"
    ) in html
    assert "Erika" not in html and customer.email not in html


@pytest.mark.django_db
def test_a_second_erasure_is_refused(agent_client, customer_ticket):
    customer = customer_ticket.customer
    data = {"reason": "abuse", "confirm": "on"}
    agent_client.post(erase_url(customer), data)
    html = agent_client.get(erase_url(customer)).content.decode()
    assert "already scheduled" in html
    assert 'name="confirm"' not in html
    response = agent_client.post(erase_url(customer), data, follow=True)
    assert "already scheduled; nothing changed" in response.content.decode()
    assert DataRequest.objects.count() == 1
    assert (
        ModelLogEntry.objects.filter(action="vivadesk.erasure.scheduled").count() == 1
    )


@pytest.mark.django_db
def test_staff_accounts_are_not_erased(agent_client, other_agent):
    response = agent_client.get(erase_url(other_agent))
    assert response.status_code == 200
    assert b"This is a staff account" in response.content
    assert b'name="confirm"' not in response.content
    response = agent_client.post(
        erase_url(other_agent), {"reason": "legal", "confirm": "on"}
    )
    assert b"This is a staff account" in response.content
    other_agent.refresh_from_db()
    assert other_agent.is_active
    assert not DataRequest.objects.exists()


@pytest.mark.django_db
def test_editors_and_visitors_are_refused(client, editor, dpo, customer_ticket):
    customer = customer_ticket.customer
    data = {"reason": "legal", "confirm": "on"}
    response = client.post(erase_url(customer), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))
    for user in (editor, dpo):
        client.force_login(user)
        assert_denied(client.get(erase_url(customer)))
        response = client.post(erase_url(customer), data)
        assert_denied(response)
        assert customer.email.encode() not in response.content
    customer.refresh_from_db()
    assert customer.is_active
    assert not DataRequest.objects.exists()


@pytest.mark.django_db
def test_an_unknown_account_is_not_found(agent_client):
    assert (
        agent_client.get(erase_url(type("U", (), {"pk": 987654})())).status_code == 404
    )


@pytest.mark.django_db
def test_the_erase_post_needs_the_csrf_token(agent, customer_ticket):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    customer = customer_ticket.customer
    response = client.post(erase_url(customer), {"reason": "legal", "confirm": "on"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.is_active
    assert not DataRequest.objects.exists()


@pytest.mark.django_db
def test_next_outside_the_site_is_ignored(agent_client, customer_ticket):
    response = agent_client.post(
        erase_url(customer_ticket.customer),
        {"reason": "legal", "confirm": "on", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse(
        "wagtailsnippets_vivadesk_wagtail_ticket:list"
    )


@pytest.mark.django_db
def test_the_german_erase_page(client, customer_ticket, other_agent):
    client.force_login(other_agent)  # no language preference: German
    html = client.get(erase_url(customer_ticket.customer)).content.decode()
    assert "Kundenkonto löschen" in html
