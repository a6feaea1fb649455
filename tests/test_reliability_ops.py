"""Security and fault sweep, operations: the task queue, concurrency, the
admin, alerts, secrets and orphaned files.

Each test is named after its row of the test catalogue in the research note
(reliability.md §6; ``test_f4_…`` is row F4); tests/RELIABILITY.md maps every
row to its tests, here and elsewhere in the suite."""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import importlib
import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_mailbox.models import Mailbox

from tests import emails, factories
from tests.concurrency import run_together
from tests.conftest import require_postgresql
from tests.pages_support import mails_to, post
from tests.portal_support import PNG
from tests.reliability_support import (
    CUSTOMER,
    nothing_stored,
    notification_id,
    silent_server,
    vivadesk,
)
from tests.timing import clock
from vivadesk_wagtail import inbound_tasks, tasks
from vivadesk_wagtail.mail import inbound, polling
from vivadesk_wagtail.models import (
    CustomerProfile,
    InboundMail,
    InboundState,
    MailboxPoll,
    OutboundEmail,
    Ticket,
    TicketAttachment,
    TicketCounter,
)
from vivadesk_wagtail.services import intake, uploads

# Every test runs in real transactions: the sweep's faults hit commits,
# threads and servers that read the database through their own connections.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


# === Task queue =============================================================


def test_q3_inbound_tasks_delivered_twice_change_nothing_more():
    ticket = factories.ticket()
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification_id(ticket),
    )
    row, _created = inbound.record(raw, queue=False)
    mail.outbox.clear()
    assert inbound_tasks.process_inbound(row.pk) == inbound_tasks.process_inbound(
        row.pk
    )
    assert ticket.messages.filter(channel="email").count() == 1
    assert len(mail.outbox) == 1  # one notice to the staff, not two
    InboundMail.objects.update(received_at=timezone.now() - timedelta(days=400))
    assert inbound_tasks.purge_raw_mail() == 1
    assert inbound_tasks.purge_raw_mail() == 0


def test_q4_rolled_back_change_queues_and_sends_nothing(monkeypatch):
    import django_q.tasks

    queued = []
    monkeypatch.setattr(
        django_q.tasks, "async_task", lambda *args, **kw: queued.append(args)
    )
    customer = factories.customer()
    queued.clear()
    mail.outbox.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.ticket(customer)
        assert OutboundEmail.objects.count() == 2
        raise RuntimeError("after async_task, before the commit")
    assert queued == []
    assert Ticket.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert mail.outbox == []


def test_q6_queued_packages_die_with_the_old_key_and_the_sweepers_recover(
    monkeypatch, settings
):
    import django_q.tasks
    from django_q.conf import Conf
    from django_q.signing import BadSignature, SignedPackage

    package = SignedPackage.dumps({"func": "vivadesk_wagtail.tasks.send_outbound"})
    monkeypatch.setattr(Conf, "SECRET_KEY", "the-rotated-secret-key-0123456789")
    with pytest.raises(BadSignature):
        SignedPackage.loads(package)
    monkeypatch.undo()

    # the queued tasks are unreadable, i.e. lost: the rows are what counts
    with mock.patch.object(django_q.tasks, "async_task"):
        ticket = factories.ticket()
        row, _created = inbound.record(
            emails.build(
                subject=f"AW: [{ticket.reference}] {ticket.subject}",
                in_reply_to=notification_id(ticket),
            )
        )
    assert mail.outbox == []
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {"pending"}
    with clock(timedelta(hours=1)):
        assert tasks.sweep_outbox() == 2
        assert inbound_tasks.sweep_inbound() == 1
    row.refresh_from_db()
    assert row.state == InboundState.DONE
    assert ticket.messages.filter(channel="email").count() == 1
    assert len(mails_to(CUSTOMER)) == 1


# === Concurrency ============================================================


@pytest.mark.postgres
def test_c2_two_parallel_posts_with_one_new_address_make_one_account():
    require_postgresql()

    def submit(i):
        return intake.submit(
            intake.Submission(
                name="Neu",
                email="Neu.Kunde@Example.com" if i else "neu.kunde@example.com",
                subject=f"Anfrage {i}",
                message="Text",
                language="de",
                idempotency_key=f"key-{i}",
            )
        ).pk

    results, errors = run_together(2, submit)
    assert errors == []
    assert len(set(results)) == 2
    assert CustomerProfile.objects.count() == 1
    customer = CustomerProfile.objects.get().user
    assert set(Ticket.objects.values_list("customer", flat=True)) == {customer.pk}


@pytest.mark.postgres
def test_c3_two_workers_processing_one_mail_write_one_message(caplog):
    require_postgresql()
    ticket = factories.ticket()
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification_id(ticket),
    )
    row, _created = inbound.record(raw, queue=False)
    results, errors = run_together(4, lambda _i: inbound.process(row.pk).outcome)
    assert errors == []
    assert results == ["reply"] * 4
    assert ticket.messages.filter(channel="email").count() == 1
    # Losing the race is not an error (no traceback in the log).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    again, created = inbound.record(raw, queue=False)
    assert not created and again.pk == row.pk


def test_c5_the_counter_row_is_seeded_by_a_migration():
    migration = importlib.import_module(
        "vivadesk_wagtail.migrations.0002_seed_counter_and_agents_group"
    )
    TicketCounter.objects.all().delete()
    # forwards() sets ``models_module`` of every app config it is given;
    # keep the real registry's values (post_migrate needs them after a flush)
    saved = {c: c.models_module for c in global_apps.get_app_configs()}
    try:
        migration.forwards(global_apps, None)
        migration.forwards(global_apps, None)
    finally:
        for config, module in saved.items():
            config.models_module = module
    assert list(TicketCounter.objects.values_list("name", "value")) == [("ticket", 0)]


@pytest.mark.postgres
def test_c5_first_tickets_ever_in_parallel_share_no_number():
    require_postgresql()
    erika = factories.customer("erika@example.com")
    TicketCounter.objects.all().delete()  # as on a database nobody seeded

    def open_one(i):
        return factories.ticket(erika, subject=f"Erste {i}").number

    numbers, errors = run_together(10, open_one)
    assert errors == []
    assert sorted(numbers) == list(range(1000, 1010))
    assert TicketCounter.objects.count() == 1


# === Admin (Wagtail) ========================================================


def test_ad5_mailbox_password_is_not_in_poll_errors_or_logs(caplog, monkeypatch):
    monkeypatch.setattr(polling, "TIMEOUT", 1)
    caplog.set_level(logging.DEBUG)
    with silent_server() as port:
        box = Mailbox.objects.create(
            name="secret", uri=f"imap://helpdesk:Geheim-4711@127.0.0.1:{port}"
        )
        results = inbound_tasks.poll_mailboxes()
    poll = MailboxPoll.objects.get(mailbox=box)
    assert poll.last_error
    for text in (str(results), poll.last_error, caplog.text):
        assert "Geheim-4711" not in text


# === Alerts, readable refusals, hidden secrets, orphan files =================

STAFF = "helpdesk@viva.de"


def alerts(caplog) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name.startswith("vivadesk_wagtail")
        and record.levelno >= logging.WARNING
    ]


def test_f4_reaching_the_global_confirmation_cap_alerts(site, settings, caplog):
    """F4: "≤1 confirmation mail per address per window; alert on global cap".
    The cap holds the mails back and says so in a warning."""
    vivadesk(settings, RATE_CONFIRMATIONS_GLOBAL="2/h")
    caplog.set_level(logging.INFO)
    for n in range(3):
        post(
            Client(REMOTE_ADDR=f"198.51.100.{n + 1}"),
            "/de/kontakt/",
            email=f"x{n}@example.com",
        )
    assert Ticket.objects.count() == 3
    assert OutboundEmail.objects.exclude(recipient=STAFF).count() == 2
    assert alerts(caplog), "no warning or staff alert when the global cap is hit"


def test_f11_oversized_form_post_gets_a_readable_page(site, client):
    """F11: "400/413 with a clear message", in the page's language, and
    nothing stored."""
    response = post(client, "/de/kontakt/", message="x" * 3_000_000)
    assert response.status_code in (400, 413)
    html = response.content.decode()
    assert 'lang="de"' in html
    assert "zu groß" in html or "zu lang" in html
    assert nothing_stored()


def test_m16_oversized_mail_alerts_the_staff(settings, caplog):
    """M16: "not silently left forever: staff alert". The mail is kept, held
    for review and announced with a warning."""
    vivadesk(settings, INBOUND_MAX_SIZE=2000)
    factories.customer()
    caplog.set_level(logging.INFO)
    result = inbound.ingest(emails.build(body="x" * 5000))
    assert (result.outcome, result.reason) == ("held", "too_large")
    staff_mail = OutboundEmail.objects.filter(recipient=STAFF).exists()
    assert staff_mail or alerts(caplog), "a too-large mail is held without any alert"


def test_ad5_mailbox_password_is_not_shown_in_the_django_admin(client):
    """AD5: "mailbox password never shown". The reference site mounts Django's
    admin at /django-admin/; django-mailbox's own admin would list the full
    ``uri`` and put it into the change form. Saving the form without typing
    a new URI keeps the stored one."""
    box = Mailbox.objects.create(
        name="helpdesk", uri="imaps://helpdesk%40viva.de:Geheim-4711@mail.viva.de"
    )
    admin = get_user_model().objects.create_superuser(
        "root", "root@viva.de", "root-pass-123"
    )
    client.force_login(admin)
    for address in (
        "/django-admin/django_mailbox/mailbox/",
        f"/django-admin/django_mailbox/mailbox/{box.pk}/change/",
    ):
        response = client.get(address)
        assert response.status_code == 200, address
        assert b"Geheim-4711" not in response.content, address
        assert b"mail.viva.de" in response.content, address
    response = client.post(
        f"/django-admin/django_mailbox/mailbox/{box.pk}/change/",
        {"name": "helpdesk", "uri": "", "from_email": "", "active": "on"},
    )
    assert response.status_code == 302
    box.refresh_from_db()
    assert box.uri == "imaps://helpdesk%40viva.de:Geheim-4711@mail.viva.de"


def test_t6_files_of_a_rolled_back_message_do_not_stay_on_disk(tmp_path):
    """T6: "no half-saved rows or files". A file is written before its row;
    when the surrounding transaction rolls back later, the file stays until
    the daily ``tasks.purge_orphan_files`` removes it (once it is older than
    a transaction could be); files that rows refer to stay."""
    customer = factories.customer()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.ticket(customer, attachments=[uploads.from_bytes("a.png", PNG)])
        assert TicketAttachment.objects.count() == 1
        raise RuntimeError("rolled back after the file was written")
    assert TicketAttachment.objects.count() == 0
    kept = factories.ticket(customer, attachments=[uploads.from_bytes("b.png", PNG)])
    root = tmp_path / "private" / "vivadesk" / "attachments"
    assert len([p for p in root.rglob("*") if p.is_file()]) == 2
    assert tasks.purge_orphan_files() == 0  # too young: may be in flight
    with clock(tasks.ORPHAN_GRACE + timedelta(minutes=1)):
        assert tasks.purge_orphan_files() == 1
    left = [p for p in root.rglob("*") if p.is_file()]
    assert len(left) == 1
    (attachment,) = TicketAttachment.objects.filter(ticket=kept)
    assert attachment.file.read() == PNG
