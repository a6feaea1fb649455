"""The retention schedule (``services.retention``, ``manage.py
vivadesk_retention``, the ``vivadesk: retention`` schedule): each policy
with its period, ``None`` switching one off, old closed tickets anonymised
or deleted, a second run doing nothing."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import emails, factories
from tests.timing import clock
from vivadesk_wagtail import privacy_tasks, schedules
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import (
    CaughtSubmission,
    InboundMail,
    InboundState,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketAttachment,
    TicketStatus,
)
from vivadesk_wagtail.services import erasure, intake, retention, spam, tickets, uploads
from vivadesk_wagtail.storage import private_storage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

DAY = timedelta(days=1)
ZEROS = {"closed_tickets": 0, "held_mail": 0, "raw_mail": 0, "caught_spam": 0}


def counts(report: dict) -> dict:
    return {name: entry["count"] for name, entry in report.items()}


@pytest.fixture
def periods(settings):
    settings.VIVADESK = {
        **settings.VIVADESK,
        "CLOSED_TICKET_RETENTION": 30 * DAY,
        "HELD_MAIL_RETENTION": 90 * DAY,
        "RAW_MAIL_RETENTION": 365 * DAY,
        "SPAM_RETENTION": 10 * DAY,
        "ERASURE_TICKETS": "delete",
    }
    return settings


def closed_ticket(customer, subject: str) -> Ticket:
    ticket = factories.ticket(
        customer, subject=subject, attachments=[uploads.from_bytes("a.txt", b"x\n")]
    )
    tickets.change_status(ticket, TicketStatus.DONE)
    with_status = Ticket.objects.get(pk=ticket.pk)
    tickets.change_status(with_status, TicketStatus.CLOSED)
    return Ticket.objects.get(pk=ticket.pk)


def caught_post() -> int:
    return spam.catch(
        intake.Submission(
            name="Bot",
            email="bot@spam.example",
            subject="Angebot",
            message="Billig!",
            language="de",
            attachments=[uploads.from_bytes("x.pdf", b"%PDF-1.4\n%%EOF\n")],
        ),
        "honeypot",
    )


@pytest.fixture
def data():
    """A closed ticket, an open one, a reply by mail (raw kept), a held mail
    from a stranger and a caught spam post, all made now."""
    customer = factories.customer()
    closed = closed_ticket(customer, "Alt und erledigt")
    open_ = factories.ticket(customer, subject="Noch offen")
    reply = ingest(
        emails.build(
            subject=f"AW: [{open_.reference}] Noch offen",
            in_reply_to=OutboundEmail.objects.filter(ticket=open_)
            .latest("pk")
            .message_id,
        )
    )
    assert reply.outcome == "reply"
    held = ingest(emails.build(sender="Fremd <fremd@example.net>"))
    assert (held.outcome, held.reason) == ("held", "unknown_sender")
    return {
        "closed": closed,
        "open": open_,
        "spam": caught_post(),
        "held": InboundMail.objects.get(pk=held.pk),
        "reply": InboundMail.objects.get(pk=reply.pk),
    }


def test_each_policy_acts_after_its_own_period_and_a_second_run_does_nothing(
    periods, data
):
    now = timezone.now()
    held_file = data["held"].raw.name
    closed_files = list(
        TicketAttachment.objects.filter(ticket=data["closed"]).values_list(
            "file", flat=True
        )
    )
    assert counts(retention.run(now)) == ZEROS

    report = retention.run(now + 31 * DAY)
    assert counts(report) == {**ZEROS, "closed_tickets": 1, "caught_spam": 1}
    assert report["closed_tickets"] == {
        "count": 1,
        "period": "P30DT00H00M00S",
        "mode": "delete",
    }
    assert not Ticket.objects.filter(pk=data["closed"].pk).exists()
    assert not any(private_storage().exists(name) for name in closed_files)
    assert Ticket.objects.filter(pk=data["open"].pk).exists()
    assert not CaughtSubmission.objects.exists()
    assert counts(retention.run(now + 31 * DAY)) == ZEROS

    assert counts(retention.run(now + 91 * DAY)) == {**ZEROS, "held_mail": 1}
    assert not InboundMail.objects.filter(pk=data["held"].pk).exists()
    assert not private_storage().exists(held_file)
    assert counts(retention.run(now + 91 * DAY)) == ZEROS

    reply = InboundMail.objects.get(pk=data["reply"].pk)
    assert reply.raw and private_storage().exists(reply.raw.name)
    assert counts(retention.run(now + 366 * DAY)) == {**ZEROS, "raw_mail": 1}
    emptied = InboundMail.objects.get(pk=reply.pk)
    assert emptied.raw.name == "" and emptied.state == InboundState.DONE
    assert not private_storage().exists(reply.raw.name)
    assert counts(retention.run(now + 366 * DAY)) == ZEROS
    assert Ticket.objects.filter(pk=data["open"].pk).exists()


def test_old_closed_tickets_are_anonymised_and_newer_ones_kept(periods, data):
    periods.VIVADESK = {**periods.VIVADESK, "ERASURE_TICKETS": "anonymise"}
    customer = data["closed"].customer
    old = data["closed"]
    old_message_count = old.messages.count()
    later = timezone.now() + 31 * DAY
    report = retention.run(later)
    with clock(31 * DAY):
        newer = closed_ticket(customer, "Gerade erst geschlossen")
    assert report["closed_tickets"] == {
        "count": 1,
        "period": "P30DT00H00M00S",
        "mode": "anonymise",
    }
    old.refresh_from_db()
    assert erasure.is_placeholder(old.customer)
    assert old.subject != "Alt und erledigt" and old.status == TicketStatus.CLOSED
    assert old.messages.count() == old_message_count
    assert not old.messages.exclude(body="").exists()
    assert not TicketAttachment.objects.filter(ticket=old).exists()
    assert not OutboundEmail.objects.filter(ticket=old).exists()
    # The customer and their newer tickets stay as they are.
    assert Ticket.objects.filter(customer=customer).count() == 2
    newer.refresh_from_db()
    assert newer.subject == "Gerade erst geschlossen"
    assert newer.messages.filter(kind=MessageKind.CUSTOMER).exclude(body="").exists()
    assert counts(retention.run(later)) == ZEROS


def test_none_switches_a_policy_off(settings, data):
    settings.VIVADESK = {
        **settings.VIVADESK,
        "CLOSED_TICKET_RETENTION": None,
        "HELD_MAIL_RETENTION": None,
        "RAW_MAIL_RETENTION": None,
        "SPAM_RETENTION": None,
    }
    report = retention.run(timezone.now() + 4000 * DAY)
    assert counts(report) == ZEROS
    assert {entry["period"] for entry in report.values()} == {None}
    assert Ticket.objects.filter(pk=data["closed"].pk).exists()
    assert InboundMail.objects.filter(pk=data["held"].pk).exists()
    assert InboundMail.objects.get(pk=data["reply"].pk).raw
    assert CaughtSubmission.objects.filter(pk=data["spam"]).exists()


def test_the_defaults_keep_closed_tickets(data):
    report = retention.run(timezone.now() + 4000 * DAY)
    assert report["closed_tickets"]["period"] is None
    assert counts(report) == {
        "closed_tickets": 0,
        "held_mail": 1,
        "raw_mail": 1,
        "caught_spam": 1,
    }


def test_the_task_returns_the_report(periods, data):
    assert privacy_tasks.run_retention() == retention.run()
    assert counts(privacy_tasks.run_retention()) == ZEROS


def test_the_command_prints_a_table_or_json(periods, data):
    out = io.StringIO()
    call_command("vivadesk_retention", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["Policy", "Kept", "for", "Removed"]
    assert lines[1].split() == [
        "closed", "tickets", "disposed", "(delete)", "30", "days", "0",
    ]  # fmt: skip
    assert lines[2].split() == ["held", "mail", "deleted", "90", "days", "0"]
    assert lines[3].split() == ["raw", "mail", "emptied", "365", "days", "0"]
    assert lines[4].split() == ["caught", "spam", "posts", "deleted", "10", "days", "0"]
    CaughtSubmission.objects.update(created_at=timezone.now() - 11 * DAY)
    out = io.StringIO()
    call_command("vivadesk_retention", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["caught_spam"] == {"count": 1, "period": "P10DT00H00M00S"}
    assert counts(report) == {**ZEROS, "caught_spam": 1}
    periods.VIVADESK = {**periods.VIVADESK, "CLOSED_TICKET_RETENTION": None}
    out = io.StringIO()
    call_command("vivadesk_retention", stdout=out)
    assert out.getvalue().splitlines()[1].split()[-2:] == ["off", "0"]


def test_the_old_purges_still_work_alone(periods, data):
    from vivadesk_wagtail import inbound_tasks, tasks

    InboundMail.objects.update(received_at=timezone.now() - 400 * DAY)
    assert inbound_tasks.purge_raw_mail() == 2
    assert inbound_tasks.purge_raw_mail() == 0
    CaughtSubmission.objects.update(created_at=timezone.now() - 11 * DAY)
    assert tasks.purge_caught_submissions() == 1


def test_the_schedules_replace_the_old_purges():
    from django_q.models import Schedule

    by_name = {periodic.name: periodic for periodic in schedules.SCHEDULES}
    assert by_name["vivadesk: retention"].func == (
        "vivadesk_wagtail.privacy_tasks.run_retention"
    )
    assert by_name["vivadesk: retention"].minutes == 1440
    assert by_name["vivadesk: data-protection requests"].func == (
        "vivadesk_wagtail.privacy_tasks.sweep_data_requests"
    )
    funcs = {periodic.func for periodic in schedules.SCHEDULES}
    assert "vivadesk_wagtail.inbound_tasks.purge_raw_mail" not in funcs
    assert "vivadesk_wagtail.tasks.purge_caught_submissions" not in funcs
    for name, func in (
        ("vivadesk: purge old raw mail", "vivadesk_wagtail.inbound_tasks.purge"),
        ("vivadesk: purge old caught spam", "vivadesk_wagtail.tasks.purge_caught_spam"),
        ("the site's own", "home.tasks.nightly"),
    ):
        Schedule.objects.create(
            name=name, func=func, schedule_type=Schedule.DAILY, repeats=-1
        )
    schedules.install()
    names = set(Schedule.objects.values_list("name", flat=True))
    assert names == {*by_name, "the site's own"}
    retention_row = Schedule.objects.get(name="vivadesk: retention")
    assert (retention_row.func, retention_row.minutes) == (
        "vivadesk_wagtail.privacy_tasks.run_retention",
        1440,
    )
