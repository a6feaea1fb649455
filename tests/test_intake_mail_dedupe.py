"""Issue 16, item 4: the dedupe key is the Message-ID plus a fingerprint.

The same mail fetched twice is one row, also when a server's re-fetch
differs in trace headers, line endings or a line before the headers; a
different mail that reuses a Message-ID (a scanner here) is a new one and
reaches its ticket; migration 0010 rewrites the keys of stored mail so that
a re-fetch after the upgrade is still a duplicate.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import emails, factories
from vivadesk_wagtail.mail import parsing, rawmail
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import InboundMail, OutboundEmail, Ticket, TicketMessage

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_content_types"),
]

SCAN_ID = "<MFP-C3060-0001@scanner.example.com>"
#: What servers add or change between two fetches of one mail.
TRACE = (
    b"Return-Path: <kunde@example.com>\n"
    b"Delivered-To: helpdesk@viva.de\n"
    b"X-Original-To: support@viva.de\n"
    b"Received: from mx.viva.de by imap.viva.de with LMTP id 4711;"
    b" Tue, 04 Feb 2025 09:00:00 +0100\n"
    b"Authentication-Results: mx.viva.de; dkim=pass header.d=example.com;"
    b" dmarc=pass header.from=example.com\n"
    b"Status: RO\n"
    b"X-Status: A\n"
    b"X-Keywords: $Forwarded\n"
    b"X-UID: 42\n"
)


def refetches(raw: bytes) -> list[bytes]:
    """The same mail as servers hand it out again."""
    crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return [
        raw,
        TRACE + raw,
        crlf,
        b"From kunde@example.com  Tue Feb  4 09:00:00 2025\n" + TRACE + raw,
        b"---- Original email message ----\n\n" + raw,
        raw.rstrip(b"\n") + b"\n\n\n",
    ]


def test_a_different_mail_reusing_a_message_id_opens_its_own_ticket():
    factories.customer()
    first = ingest(emails.load("scanner-reused-message-id-1.eml"))
    second = ingest(emails.load("scanner-reused-message-id-2.eml"))
    assert first.outcome == "new_ticket", first
    assert second.outcome == "new_ticket", second
    assert second.body == "Gescanntes Dokument (2 Seiten) im Anhang."
    assert second.attachments == ["Scan_20250204_084137.pdf"]
    assert Ticket.objects.count() == 2
    assert InboundMail.objects.filter(message_id=SCAN_ID).count() == 2
    # The first message keeps the Message-ID, the second none (unique column).
    first_message = TicketMessage.objects.get(message_id=SCAN_ID)
    assert first_message.ticket.reference == first.ticket
    second_message = Ticket.objects.get(reference=second.ticket).messages.get()
    assert second_message.message_id is None


@pytest.mark.parametrize("number", [1, 2])
def test_fetching_either_mail_again_is_a_duplicate(number):
    factories.customer()
    first = ingest(emails.load("scanner-reused-message-id-1.eml"))
    second = ingest(emails.load("scanner-reused-message-id-2.eml"))
    stored = (first, second)[number - 1]
    for again in refetches(emails.load(f"scanner-reused-message-id-{number}.eml")):
        result = ingest(again)
        assert (result.outcome, result.ticket) == ("duplicate", stored.ticket)
    assert InboundMail.objects.count() == 2
    assert Ticket.objects.count() == 2


def test_the_key_reads_message_id_sender_date_subject_and_body_only():
    raw = emails.load("scanner-reused-message-id-1.eml")
    key = rawmail.dedupe_key(raw, SCAN_ID)
    assert key.startswith("mid:") and len(key) <= 80
    assert {rawmail.dedupe_key(r, SCAN_ID) for r in refetches(raw)} == {key}
    changed = [
        raw.replace(b"03 Feb 2025 10:15:02", b"03 Feb 2025 10:15:03"),
        raw.replace(b"Subject: Scan vom", b"Subject: Scan von"),
        raw.replace(b"From: Scanner 2. OG", b"From: Scanner 3. OG"),
        raw.replace(b"(1 Seite)", b"(1 Seite)."),
        raw.replace(b"Content-Type: text/plain", b"Content-Type: text/html"),
    ]
    for other in changed:
        assert other != raw
        assert rawmail.dedupe_key(other, SCAN_ID) != key
    assert rawmail.dedupe_key(raw, "<other@scanner.example.com>") != key


@pytest.mark.django_db(transaction=True)  # both tickets' notifications are sent
def test_a_reused_id_on_a_reply_is_stored_and_threading_still_works():
    ticket = factories.ticket()
    ours = OutboundEmail.objects.filter(ticket=ticket).latest("pk").message_id
    opened = ingest(emails.build(message_id=SCAN_ID, subject="Neuer Scan", body="A"))
    assert opened.outcome == "new_ticket"
    other = Ticket.objects.get(reference=opened.ticket)
    # A reply to the first ticket's notification that reuses the id.
    reply = ingest(
        emails.build(
            message_id=SCAN_ID,
            subject=f"AW: [{ticket.reference}] {ticket.subject}",
            in_reply_to=ours,
            body="Danke, erledigt.",
        )
    )
    assert (reply.outcome, reply.ticket) == ("reply", ticket.reference)
    message = ticket.messages.filter(channel="email").get()
    assert (message.body, message.message_id) == ("Danke, erledigt.", None)
    # Replies to our notifications find their tickets by our Message-IDs.
    for target in (ticket, other):
        notice = OutboundEmail.objects.filter(ticket=target).latest("pk").message_id
        answer = ingest(emails.build(in_reply_to=notice, subject="ohne Bezug"))
        assert (answer.outcome, answer.ticket) == ("reply", target.reference)
    # A mail answering the reused id finds the ticket of the mail that has it.
    answer = ingest(emails.build(in_reply_to=SCAN_ID, subject="ohne Bezug"))
    assert (answer.outcome, answer.ticket) == ("reply", other.reference)


def _queries(raw: bytes) -> int:
    with CaptureQueriesContext(connection) as captured:
        result = ingest(raw)
    assert result.outcome == "new_ticket", result
    return len(captured)


def test_a_reused_id_costs_no_extra_query():
    factories.customer()
    ingest(emails.build(subject="Aufwärmen", body="Erste Frage."))
    fresh = _queries(emails.build(message_id=SCAN_ID, body="Eins"))
    reused = _queries(emails.build(message_id=SCAN_ID, body="Zwei"))
    assert reused == fresh


def test_without_message_id_the_date_keeps_two_deliveries_one():
    factories.customer()
    raw = emails.build(message_id=None, body="Ohne Kennung.")
    assert ingest(raw).outcome == "new_ticket"
    assert ingest(TRACE + raw).outcome == "duplicate"
    assert InboundMail.objects.get().dedupe_key.startswith("fp:")


def test_without_message_id_and_date_two_sends_are_never_merged():
    """Such a mail is keyed by its bytes: the same text sent twice by a
    script (other ``Received``) is two mails; the same bytes twice are one."""
    factories.customer()
    raw = emails.load("no-message-id-no-date.eml")
    assert ingest(raw).outcome == "new_ticket"
    assert ingest(raw).outcome == "duplicate"
    resent = b"Received: from script.example.com by mx.viva.de; 3 Feb 2025\n" + raw
    assert ingest(resent).outcome == "new_ticket"
    keys = InboundMail.objects.values_list("dedupe_key", flat=True)
    assert all(key.startswith("raw:") for key in keys) and len(keys) == 2


def test_vivadesk_ingest_reports_duplicate_only_for_the_refetch(tmp_path):
    factories.customer()
    paths = []
    for number in (1, 2):
        path = tmp_path / f"scan-{number}.eml"
        path.write_bytes(emails.load(f"scanner-reused-message-id-{number}.eml"))
        paths.append(path)
    again = tmp_path / "scan-1-again.eml"
    again.write_bytes(TRACE + paths[0].read_bytes())
    out = StringIO()
    call_command("vivadesk_ingest", "--json", *map(str, [*paths, again]), stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["outcome"] for row in rows] == ["new_ticket", "new_ticket", "duplicate"]
    assert rows[2]["ticket"] == rows[0]["ticket"] != rows[1]["ticket"]


# --- migration 0010 ----------------------------------------------------------

migration = importlib.import_module(
    "vivadesk_wagtail.migrations.0010_dedupe_key_fingerprint"
)


def _old_dedupe_key(raw: bytes, headers=None) -> tuple[str, str]:
    """``parsing.dedupe_key`` of the release before migration 0010."""
    _key, message_id = REAL_DEDUPE_KEY(raw, headers)
    if message_id:
        return "id:" + hashlib.sha256(message_id.encode()).hexdigest(), message_id
    return "raw:" + hashlib.sha256(raw).hexdigest(), ""


REAL_DEDUPE_KEY = parsing.dedupe_key


def _store_as_before_the_upgrade(monkeypatch, *raws: bytes) -> list[InboundMail]:
    """Rows as the release before 0010 stored them (``id:``/``raw:`` keys)."""
    with monkeypatch.context() as patch:
        patch.setattr(parsing, "dedupe_key", _old_dedupe_key)
        for raw in raws:
            assert ingest(raw).outcome != "duplicate"
    rows = list(InboundMail.objects.order_by("pk"))
    assert all(row.dedupe_key.startswith(("id:", "raw:")) for row in rows)
    return rows


def test_migration_rewrites_stored_keys_so_refetches_stay_duplicates(monkeypatch):
    factories.customer()
    monkeypatch.setattr(migration, "BATCH", 2)  # three batches
    scan = emails.load("scanner-reused-message-id-1.eml")
    dated = emails.build(message_id=None, subject="Ohne Kennung", body="Mit Datum.")
    undated = emails.load("no-message-id-no-date.eml")
    gone = emails.build(message_id="<gone@example.com>", subject="Alt", body="Alt.")
    twice = TRACE + dated  # a second delivery stored under the old raw key
    rows = _store_as_before_the_upgrade(monkeypatch, scan, dated, undated, gone, twice)
    assert len(rows) == 5
    gone_row = rows[3]
    gone_row.raw.delete(save=True)  # the raw-mail retention removed it

    migration.forward(apps, None)

    keys = dict(InboundMail.objects.values_list("pk", "dedupe_key"))
    assert keys[rows[0].pk] == rawmail.dedupe_key(scan, SCAN_ID)
    assert keys[rows[1].pk] == rawmail.dedupe_key(dated, "")
    assert keys[rows[1].pk].startswith("fp:")
    assert keys[rows[2].pk] == rows[2].dedupe_key  # raw: stays raw:
    assert keys[rows[3].pk] == gone_row.dedupe_key  # no raw mail: old key
    assert keys[rows[4].pk] == rows[4].dedupe_key  # its new key is taken
    for raw in (scan, TRACE + scan, dated, twice, undated):
        assert ingest(raw).outcome == "duplicate"
    # A different mail reusing the stored Message-ID is new after the upgrade.
    # (held: the sender's sixth new ticket in minutes is a flood)
    reused = ingest(emails.load("scanner-reused-message-id-2.eml"))
    assert reused.outcome != "duplicate"
    assert InboundMail.objects.count() == 6

    migration.forward(apps, None)  # a second run changes nothing
    keys_again = dict(InboundMail.objects.values_list("pk", "dedupe_key"))
    assert {pk: keys_again[pk] for pk in keys} == keys


def test_migration_backward_restores_the_old_keys(monkeypatch):
    factories.customer()
    scan = emails.load("scanner-reused-message-id-1.eml")
    dated = emails.build(message_id=None, body="Mit Datum.")
    rows = _store_as_before_the_upgrade(monkeypatch, scan, dated)
    migration.forward(apps, None)
    assert not InboundMail.objects.filter(dedupe_key__startswith="id:").exists()
    migration.backward(apps, None)
    keys = dict(InboundMail.objects.values_list("pk", "dedupe_key"))
    assert keys == {row.pk: row.dedupe_key for row in rows}
