"""The service reports' spreadsheets (CSV and XLSX: headings, numbers,
dates, the reader's language) and the backlog (open tickets by status,
category and assignee, overdue ones)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation

from tests.reports_support import (
    BACKLOG,
    PERIOD,
    SERVICE,
    W45,
    customer_fixture,  # noqa: F401 - the fixture customer
    seed_backlog,
    superuser_fixture,  # noqa: F401 - the fixture superuser
    table_rows,
    url,
    weeks_data_fixture,  # noqa: F401 - the fixture weeks_data
)
from vivadesk_wagtail.models import TicketStatus
from vivadesk_wagtail.staff import report_queries


@pytest.fixture
def backlog_data(customer, agent, other_agent):
    seed_backlog(customer, agent, other_agent)


# --- Exports -------------------------------------------------------------------


SERVICE_HEADINGS = [
    "Week",
    "Week starting",
    "Tickets opened",
    "Tickets resolved",
    "Median first response (business hours)",
    "Median resolution (business hours)",
    "First-response target missed",
    "Resolution target missed",
    "Rated good",
    "Rated bad",
    "Good ratings (%)",
]


@pytest.mark.django_db
def test_the_csv_has_headings_weeks_and_totals(client, superuser, weeks_data):
    client.force_login(superuser)
    with translation.override("en"):
        response = client.get(url(SERVICE, export="csv", **PERIOD))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "service-report-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == SERVICE_HEADINGS
    assert rows[2] == [
        "W45/2026",
        "2026-11-02",
        "3",
        "1",
        "2.0",
        "4.0",
        "1",
        "0",
        "2",
        "1",
        "66.7",
    ]
    assert rows[4][3:6] == ["0", "", ""]  # week 47: no medians
    assert rows[5] == ["Total", "", "5", "3", "1.5", "5.0", "1", "1", "2", "2", "50.0"]


@pytest.mark.django_db
def test_the_xlsx_has_numbers_and_dates(client, superuser, weeks_data):
    from openpyxl import load_workbook

    client.force_login(superuser)
    with translation.override("en"):
        response = client.get(url(SERVICE, export="xlsx", **PERIOD))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == SERVICE_HEADINGS
    week45 = rows[2]
    assert week45[0] == "W45/2026"
    assert week45[1] in (W45, datetime(2026, 11, 2))
    assert week45[2:] == [3, 1, 2.0, 4.0, 1, 0, 2, 1, 66.7]
    assert all(isinstance(v, int | float) for v in week45[2:])
    assert rows[-1][:3] == ["Total", None, 5]
    assert len(rows) == 6


@pytest.mark.django_db
def test_the_csv_is_in_the_readers_language(client, customer):
    """Streamed after the view returned, the CSV keeps the reader's language."""
    chef = get_user_model().objects.create_superuser("chef", "c@viva.de", "x-pass-1")
    client.force_login(chef)
    response = client.get(url(BACKLOG, export="csv"))
    text = b"".join(response.streaming_content).decode()
    with translation.override("de"):
        heading = str(report_queries_heading("open"))
        new = str(TicketStatus.NEW.label)
    assert text.splitlines()[0].split(",")[2] == heading
    assert new in text


def report_queries_heading(name: str):
    from vivadesk_wagtail.staff.reports import BacklogReportView

    return BacklogReportView.export_headings[name]


# --- The backlog ---------------------------------------------------------------


@pytest.mark.django_db
def test_backlog_by_status_category_and_assignee(backlog_data):
    result = report_queries.backlog(timezone.now())
    assert [(g.key, g.open, g.overdue) for g in result.by_status] == [
        ("new", 2, 1),
        ("open", 1, 1),
        ("waiting", 1, 0),
    ]
    assert [(g.name, g.open, g.overdue) for g in result.by_category] == [
        ("Drucker", 2, 1),
        ("Rechnungen", 1, 1),
        ("", 1, 0),
    ]
    assert result.by_category[-1].key is None
    assert [(g.name, g.open, g.overdue) for g in result.by_assignee] == [
        ("Anna Agent", 2, 1),
        ("Bert B", 1, 0),
        ("", 1, 1),
    ]
    assert (result.open, result.overdue) == (4, 2)


@pytest.mark.django_db
def test_the_backlog_page_and_its_export(client, superuser, backlog_data):
    client.force_login(superuser)
    with translation.override("en"):
        html = client.get(url(BACKLOG)).content.decode()
        response = client.get(url(BACKLOG, export="csv"))
        text = b"".join(response.streaming_content).decode()
    assert "4 open tickets now, 2 of them overdue." in html
    for heading in ("By status", "By category", "By assignee"):
        assert heading in html
    rows = table_rows(html)
    assert ["New", "2", "1"] in rows
    assert ["No category", "1", "0"] in rows
    assert ["Nobody", "1", "1"] in rows
    assert reverse(SERVICE) in html  # the link to the other report
    assert list(csv.reader(io.StringIO(text))) == [
        ["Grouped by", "Group", "Open tickets", "Overdue"],
        ["By status", "New", "2", "1"],
        ["By status", "In progress", "1", "1"],
        ["By status", "Waiting for your reply", "1", "0"],
        ["By category", "Drucker", "2", "1"],
        ["By category", "Rechnungen", "1", "1"],
        ["By category", "No category", "1", "0"],
        ["By assignee", "Anna Agent", "2", "1"],
        ["By assignee", "Bert B", "1", "0"],
        ["By assignee", "Nobody", "1", "1"],
    ]


@pytest.mark.django_db
def test_an_empty_backlog(client, superuser):
    client.force_login(superuser)
    with translation.override("en"):
        html = client.get(url(BACKLOG)).content.decode()
    assert "0 open tickets now, 0 of them overdue." in html
    assert html.count("No open tickets.") == 2  # category and assignee
