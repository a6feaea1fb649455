"""Security and fault sweep, files and mail: attachments, inbound and
outbound mail.

Each test is named after its row of the test catalogue in the research note
(reliability.md §6; ``test_f4_…`` is row F4); tests/RELIABILITY.md maps every
row to its tests, here and elsewhere in the suite."""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import io
import logging
import mailbox
import os
import stat
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_mailbox.models import Mailbox

from tests import emails, factories
from tests.portal_support import PNG, alice, upload, url
from tests.reliability_support import (
    notification_id,
    silent_server,
    stored_files,
    vivadesk,
)
from tests.staff_support import agents_group, screen_url
from tests.timing import clock
from vivadesk_wagtail import inbound_tasks, tasks
from vivadesk_wagtail.mail import inbound, polling
from vivadesk_wagtail.models import (
    InboundMail,
    InboundState,
    MailboxPoll,
    MessageKind,
    OutboundEmail,
    OutboundState,
    Ticket,
    TicketAttachment,
    TicketMessage,
)

# Every test runs in real transactions: the sweep's faults hit commits,
# threads and servers that read the database through their own connections.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


# === Attachments ============================================================


def comment_with_png(client, key: str) -> None:
    """Alice, logged in, comments on her ticket with a PNG attached."""
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    client.post(
        url("comment", ticket.reference),
        {"body": "Bild", "key": key * 32, "attachments": [upload("bild.png", PNG)]},
    )


def test_t2_attachments_have_no_public_url_and_are_not_under_media(
    client, settings, tmp_path
):
    comment_with_png(client, "t")
    attachment = TicketAttachment.objects.get()
    path = os.path.realpath(attachment.file.path)
    assert not path.startswith(os.path.realpath(settings.MEDIA_ROOT))
    assert path.startswith(os.path.realpath(tmp_path / "private"))
    for guess in (
        attachment.file.url,
        f"/media/{attachment.file.name}",
        f"{settings.MEDIA_URL}{attachment.file.name}",
        f"/private/{attachment.file.name}",
        f"/{attachment.file.name}",
    ):
        for who in (Client(), client):  # anonymous, and the owner
            response = who.get(guess, follow=True)  # after the language redirect
            assert response.status_code == 404, guess
            assert PNG not in response.content


DECLARED_PNG = [
    ("getarnt.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("programm.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64),
]


@pytest.mark.parametrize(("name", "data"), DECLARED_PNG, ids=["html", "exe"])
def test_t5_declared_png_with_other_magic_is_refused_in_the_portal(
    client, tmp_path, name, data
):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = TicketMessage.objects.count()
    response = client.post(
        url("comment", ticket.reference, lang="en"),
        {
            "body": "Bild",
            "key": "u" * 32,
            "attachments": [SimpleUploadedFile(name, data, "image/png")],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["attachments"]
    assert TicketMessage.objects.count() == before
    assert TicketAttachment.objects.count() == 0
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize(("name", "data"), DECLARED_PNG, ids=["html", "exe"])
def test_t5_declared_png_with_other_magic_is_refused_in_the_staff_reply(
    client, tmp_path, name, data
):
    ticket = factories.ticket()
    agent = factories.StaffFactory(username="t5agent")
    agent.groups.add(agents_group())
    client.force_login(agent)
    response = client.post(
        screen_url(ticket),
        {
            "action": "reply",
            "reply-body": "Anbei",
            "reply-idempotency_key": "v" * 32,
            "reply-attachments": [SimpleUploadedFile(name, data, "image/png")],
        },
    )
    assert response.status_code == 200
    assert not TicketMessage.objects.filter(kind=MessageKind.STAFF).exists()
    assert TicketAttachment.objects.count() == 0
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize(("name", "data"), DECLARED_PNG, ids=["html", "exe"])
def test_t5_declared_png_with_other_magic_is_dropped_from_mail(name, data):
    factories.customer()
    raw = emails.build(
        body="Siehe Anhang.",
        attachments=[(name, data, "image/png"), ("ok.png", PNG, "image/png")],
    )
    result = inbound.ingest(raw)
    assert result.outcome == "new_ticket", result
    assert result.attachments == ["ok.png"]
    assert name in InboundMail.objects.get().detail


def test_t6_one_hundred_and_one_files_are_refused_and_nothing_saved(client, tmp_path):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = TicketMessage.objects.count()
    response = client.post(
        url("comment", ticket.reference),
        {
            "body": "Viele Dateien",
            "key": "w" * 32,
            "attachments": [upload(f"{n}.png", PNG) for n in range(101)],
        },
    )
    assert response.status_code == 400
    assert TicketMessage.objects.count() == before
    assert TicketAttachment.objects.count() == 0
    assert stored_files(tmp_path) == []


def test_t7_stored_files_are_readable_by_the_owner_only(client, tmp_path):
    comment_with_png(client, "x")
    inbound.ingest(emails.build(sender="fremd@example.org"))  # a raw mail file
    files = stored_files(tmp_path)
    assert len(files) == 2
    for path in files:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
        parent = stat.S_IMODE(path.parent.stat().st_mode)
        assert parent & 0o007 == 0, (path.parent, oct(parent))


# === Inbound mail ===========================================================


def test_m3_forged_pass_below_our_fail_is_still_held(settings):
    vivadesk(settings, MAIL_AUTHSERV_ID="mx.viva.de")
    ticket = factories.ticket()
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification_id(ticket),
        headers={"Authentication-Results": "mx.viva.de; dmarc=fail header.from=x"},
    )
    # the sender's own "pass" claims, further down the header block
    forged = (
        b"Authentication-Results: mx.viva.de; dmarc=pass header.from=example.com\n"
        b"Authentication-Results: mx.evil.example; dmarc=pass\n"
    )
    head, body = raw.split(b"\n\n", 1)
    mail.outbox.clear()
    result = inbound.ingest(head + b"\n" + forged + b"\n" + body)
    assert (result.outcome, result.reason) == ("held", "dmarc_fail")
    assert ticket.messages.filter(channel="email").count() == 0
    assert mail.outbox == []


def test_m12_handler_crash_on_the_third_of_five_mails(tmp_path, monkeypatch):
    from vivadesk_wagtail.services import held_mail
    from vivadesk_wagtail.services import inbound as service

    factories.customer()
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    for n in range(5):
        box.add(emails.build(subject=f"Mail {n}", body=f"Text {n}"))
    row = Mailbox.objects.create(name="maildir", uri=f"maildir://{box._path}")
    real_handle = service.handle
    calls = {"n": 0}

    def crash_on_third(inbound_row, parsed):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("handler crashed")
        return real_handle(inbound_row, parsed)

    monkeypatch.setattr(service, "handle", crash_on_third)
    assert polling.poll_mailbox(row) == 5
    assert len(box) == 0
    assert InboundMail.objects.count() == 5
    (crashed,) = InboundMail.objects.filter(state=InboundState.HELD)
    assert "handler crashed" in crashed.detail
    assert crashed.read_raw()
    assert Ticket.objects.count() == 4

    monkeypatch.undo()
    assert polling.poll_mailbox(row) == 0  # nothing fetched twice
    agent = factories.StaffFactory(username="m12agent")
    held_mail.reprocess(crashed.pk, by=agent)
    crashed.refresh_from_db()
    assert crashed.state == InboundState.DONE
    subjects = sorted(Ticket.objects.values_list("subject", flat=True))
    assert subjects == [f"Mail {n}" for n in range(5)]


BAD_RFC2047 = (
    b"From: Erika Mustermann <kunde@example.com>\n"
    b"To: helpdesk@viva.de\n"
    b"Subject: =?utf-8?B?////invalid?= =?x-unknown-42?Q?caf=E9?= Frage\n"
    b"Message-ID: <bad-2047@example.com>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=x-unknown-42\n"
    b"Content-Transfer-Encoding: 8bit\n"
    b"\n"
    b"Gr\xfc\xdfe, na\xefve caf\xe9 und eine Frage.\n"
)


def test_m15_bad_encoded_words_and_unknown_charset_keep_text_and_raw():
    factories.customer()
    result = inbound.ingest(BAD_RFC2047)
    assert result.outcome == "new_ticket", result
    ticket = Ticket.objects.get()
    assert "Frage" in ticket.subject
    assert "caf" in ticket.subject
    body = ticket.messages.get().body
    assert "\ufffd" not in body  # detected (charset-normalizer), not replaced
    assert body.startswith("Grüße, naïve café")
    assert InboundMail.objects.get().read_raw() == BAD_RFC2047


def _zip_bomb() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("nullen.bin", b"\0" * (20 * 2**20))
    return buffer.getvalue()


def test_m18_exe_part_dropped_zip_bomb_kept_inert_and_the_rest_survives():
    factories.customer()
    bomb = _zip_bomb()
    assert len(bomb) < 100_000
    raw = emails.build(
        body="Drei Anhänge.",
        attachments=[
            ("programm.exe", b"MZ\x90\x00" + b"\x00" * 128, "application/octet-stream"),
            ("bombe.zip", bomb, "application/zip"),
            ("protokoll.txt", b"Zeile 1\n", "text/plain"),
        ],
    )
    result = inbound.ingest(raw)
    assert result.outcome == "new_ticket", result
    assert result.body == "Drei Anhänge."
    assert sorted(result.attachments) == ["bombe.zip", "protokoll.txt"]
    assert "programm.exe" in InboundMail.objects.get().detail
    stored = TicketAttachment.objects.get(original_name="bombe.zip")
    assert stored.size == len(bomb)  # stored as sent, never unpacked
    with stored.file.open("rb") as handle:
        assert handle.read() == bomb


def test_m22_a_hanging_server_fails_the_poll_within_its_timeout(monkeypatch):
    monkeypatch.setattr(polling, "TIMEOUT", 1)
    with silent_server() as port:
        Mailbox.objects.create(
            name="hanging", uri=f"imap://helpdesk:Geheim-4711@127.0.0.1:{port}"
        )
        started = time.monotonic()
        results = inbound_tasks.poll_mailboxes()
        elapsed = time.monotonic() - started
    assert results["hanging"].startswith("failed")
    assert elapsed < 10
    assert InboundMail.objects.count() == 0


def test_m22_server_down_is_retried_and_alerts_after_repeated_failures(caplog):
    with silent_server() as port:
        pass  # closed again: nobody listens on this port now
    box = Mailbox.objects.create(
        name="down", uri=f"imap://helpdesk:Geheim-4711@127.0.0.1:{port}"
    )
    caplog.set_level(logging.WARNING, logger="vivadesk_wagtail")
    levels = []
    for _attempt in range(polling.ALERT_AFTER):
        caplog.clear()
        assert inbound_tasks.poll_mailboxes()["down"].startswith("failed")
        levels.append(
            max(
                r.levelno
                for r in caplog.records
                if r.name.startswith("vivadesk_wagtail.mail.polling")
                and "failed" in r.getMessage()
                and "time(s)" in r.getMessage()
            )
        )
    assert levels[:-1] == [logging.WARNING] * (polling.ALERT_AFTER - 1)
    assert levels[-1] == logging.ERROR
    poll = MailboxPoll.objects.get(mailbox=box)
    assert poll.failures == polling.ALERT_AFTER
    assert poll.locked_by == "" and poll.locked_until is None  # next run may poll
    assert InboundMail.objects.count() == 0


# === Outbound mail ==========================================================


def test_o1_retry_delays_double_up_to_the_maximum(smtp_down, settings):
    vivadesk(
        settings,
        OUTBOX_RETRY_DELAY=timedelta(minutes=1),
        OUTBOX_RETRY_MAX_DELAY=timedelta(minutes=4),
        OUTBOX_MAX_ATTEMPTS=6,
    )
    ticket = factories.ticket()
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_created")
    offset, delays = timedelta(0), []
    for _attempt in range(4):
        row.refresh_from_db()
        assert row.state == OutboundState.PENDING
        now = timezone.now() + offset
        delays.append(round((row.next_attempt_at - now).total_seconds() / 60))
        offset = row.next_attempt_at - timezone.now() + timedelta(seconds=1)
        with clock(offset):
            tasks.sweep_outbox()
    assert delays == [1, 2, 4, 4]
    row.refresh_from_db()
    assert row.attempts == 5 and row.state == OutboundState.PENDING
    assert smtp_down.messages == []
