"""Hostile and broken mail, crashes between storing and processing (M11–M14,
Q7): nothing is lost, nothing is processed twice, one bad mail never blocks
the next."""

from __future__ import annotations

import mailbox
from datetime import timedelta

import pytest
from django.utils import timezone
from django_mailbox.models import Mailbox

from tests import emails, factories
from vivadesk_wagtail import inbound_tasks
from vivadesk_wagtail.mail import inbound, polling
from vivadesk_wagtail.models import InboundMail, InboundState, Ticket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


def test_2000_level_nesting_is_held_and_the_next_mail_processed():
    factories.customer()
    result = inbound.ingest(emails.nested(2000))
    assert result.outcome in ("held", "error")
    row = InboundMail.objects.get(message_id="<nested@example.com>")
    assert row.state == InboundState.HELD
    assert row.detail
    assert row.read_raw() == emails.nested(2000)
    assert inbound.ingest(emails.build()).outcome == "new_ticket"


def test_moderate_nesting_beyond_the_limit_is_held():
    factories.customer()
    result = inbound.ingest(emails.nested(60))
    assert (result.outcome, result.reason) == ("held", "malformed_mime")


def test_600_character_from_is_stored():
    factories.customer()
    sender = f'"{"x" * 600}" <kunde@example.com>'
    result = inbound.ingest(emails.build(sender=sender))
    assert result.outcome == "new_ticket"
    row = InboundMail.objects.get()
    assert len(row.from_header) > 600
    assert row.sender == "kunde@example.com"


def test_10000_parts_are_survived():
    factories.customer()
    parts = "".join(
        f"--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
        f'filename="n{i}.txt"\r\n\r\nteil {i}\r\n'
        for i in range(10_000)
    )
    raw = (
        "From: kunde@example.com\r\nTo: helpdesk@viva.de\r\nSubject: viele\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n'
        "--p\r\nContent-Type: text/plain\r\n\r\nviele Teile\r\n" + parts + "--p--\r\n"
    ).encode()
    result = inbound.ingest(raw)
    assert result.outcome == "new_ticket"
    assert len(result.attachments) == 10


def test_unexpected_error_holds_the_mail_with_traceback(monkeypatch):
    factories.customer()

    def boom(row, parsed):
        raise RuntimeError("database went away")

    monkeypatch.setattr("vivadesk_wagtail.services.inbound.handle", boom)
    result = inbound.ingest(emails.build())
    assert (result.outcome, result.reason) == ("error", "error")
    row = InboundMail.objects.get()
    assert row.state == InboundState.HELD
    assert "database went away" in row.detail
    assert Ticket.objects.count() == 0


def _maildir(tmp_path, count: int) -> mailbox.Maildir:
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    for n in range(count):
        box.add(emails.build(subject=f"Mail {n}", body=f"Text {n}"))
    return box


def test_lost_tasks_are_picked_up_by_the_sweeper(tmp_path, monkeypatch):
    factories.customer()
    box = _maildir(tmp_path, 5)
    monkeypatch.setattr(inbound, "enqueue", lambda *args: None)  # the task is lost
    row = Mailbox.objects.create(name="demo", uri=f"maildir://{box._path}")
    assert polling.poll_mailbox(row) == 5
    assert len(box) == 0
    assert InboundMail.objects.pending().count() == 5
    assert inbound_tasks.sweep_inbound() == 0  # too fresh to be "stuck"
    InboundMail.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    assert inbound_tasks.sweep_inbound() == 5
    assert inbound_tasks.sweep_inbound() == 0
    assert Ticket.objects.count() == 5
    assert set(InboundMail.objects.values_list("state", flat=True)) == {"done"}


def test_crash_while_storing_leaves_the_rest_in_the_maildir(tmp_path, monkeypatch):
    factories.customer()
    box = _maildir(tmp_path, 5)
    row = Mailbox.objects.create(name="demo", uri=f"maildir://{box._path}")
    real_record = inbound.record
    calls = {"n": 0}

    def flaky(raw, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real_record(raw, **kwargs)

    monkeypatch.setattr(inbound, "record", flaky)
    with pytest.raises(OSError):
        polling.poll_mailbox(row)
    assert len(box) == 3
    assert Ticket.objects.count() == 2
    assert polling.poll_mailbox(row) == 3
    assert len(box) == 0
    assert Ticket.objects.count() == 5
    assert InboundMail.objects.count() == 5


def test_same_mail_in_two_mailboxes_is_one_ticket(tmp_path):
    factories.customer()
    raw = emails.build(message_id="<cc-two@example.com>")
    for name in ("a", "b"):
        box = mailbox.Maildir(str(tmp_path / name), create=True)
        box.add(raw)
        Mailbox.objects.create(name=name, uri=f"maildir://{tmp_path / name}")
    results = inbound_tasks.poll_mailboxes()
    assert results == {"a": "1 new", "b": "0 new"}
    assert Ticket.objects.count() == 1


def test_django_mailbox_signal_records_too(tmp_path):
    factories.customer()
    box = Mailbox.objects.create(name="pipe")
    import email

    message = email.message_from_bytes(emails.build(subject="per Pipe"))
    box.process_incoming_message(message)
    row = InboundMail.objects.get()
    assert row.source.startswith("django-mailbox:")
    assert row.state == InboundState.DONE
    assert Ticket.objects.get().subject == "per Pipe"


def test_purge_removes_old_raw_mail_but_keeps_the_row():
    factories.customer()
    # One mail fetched twice (built once: its Date is part of its key).
    raw = emails.build(message_id="<old@example.com>")
    inbound.ingest(raw)
    InboundMail.objects.update(received_at=timezone.now() - timedelta(days=400))
    assert inbound_tasks.purge_raw_mail() == 1
    row = InboundMail.objects.get()
    assert not row.raw
    again = inbound.ingest(raw)
    assert again.outcome == "duplicate"


def test_mail_over_the_size_limit_is_kept_and_held_unparsed(settings):
    settings.VIVADESK = {**settings.VIVADESK, "INBOUND_MAX_SIZE": 2000}
    factories.customer()
    raw = emails.build(body="x" * 5000)
    result = inbound.ingest(raw)
    assert (result.outcome, result.reason) == ("held", "too_large")
    assert InboundMail.objects.get().read_raw() == raw
    assert Ticket.objects.count() == 0


def test_sweeper_records_django_mailbox_rows_the_receiver_missed(monkeypatch):
    import email

    factories.customer()
    box = Mailbox.objects.create(name="pipe")
    monkeypatch.setattr(inbound, "record", _fail)
    message = email.message_from_bytes(emails.build(subject="verpasst"))
    with pytest.raises(OSError):
        box.process_incoming_message(message)
    monkeypatch.undo()
    assert InboundMail.objects.count() == 0
    inbound_tasks.sweep_inbound()
    inbound_tasks.sweep_inbound()
    assert InboundMail.objects.count() == 1
    assert Ticket.objects.get().subject == "verpasst"


def _fail(*args, **kwargs):
    raise OSError("database is down")


def test_nul_characters_and_long_content_id_are_stored():
    factories.customer()
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
        b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    )
    raw = emails.build(
        body="Hallo\x00Welt",
        attachments=[("bild.png", png, "image/png")],
    ).replace(
        b"Content-Disposition: attachment;",
        b"Content-ID: <" + b"c" * 400 + b">\nContent-Disposition: attachment;",
    )
    result = inbound.ingest(raw)
    assert result.outcome == "new_ticket", result
    assert "\x00" not in result.body


@pytest.mark.slow
def test_25_mb_attachment_peak_memory_stays_below_four_times(settings):
    import os
    import tracemalloc

    settings.VIVADESK = {**settings.VIVADESK, "ATTACHMENT_MAX_SIZE": 30 * 2**20}
    factories.customer()
    pdf = b"%PDF-1.4\n" + os.urandom(25 * 2**20)
    raw = emails.build(attachments=[("gross.pdf", pdf, "application/pdf")])
    tracemalloc.start()
    try:
        result = inbound.ingest(raw)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.outcome == "new_ticket", result
    assert result.attachments == ["gross.pdf"]
    assert peak <= 4 * len(raw), f"peak {peak / len(raw):.1f}x the mail"
