"""Issue 16, items 7 and 9: what comes before the headers, and files that
are no mail at all.

A few junk lines before the header block (a gateway's ``---- Original email
message ----``, an mbox ``From`` line, a blank line) are skipped, never a
real header; an Outlook ``.msg``, a PDF, a zip or random bytes are held as
"not a mail" with their bytes kept, never parsed into a garbage body.
"""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from django.utils import translation

from tests import emails, factories
from vivadesk_wagtail.mail import parsing, rawmail
from vivadesk_wagtail.mail.inbound import ingest, process, record
from vivadesk_wagtail.models import InboundMail, InboundState, Ticket
from vivadesk_wagtail.services import held_mail as held_actions
from vivadesk_wagtail.staff import held_mail

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_content_types"),
]

GATEWAY = "gateway-prefixed-original.eml"


def test_gateway_line_before_the_headers_is_skipped():
    factories.customer()
    raw = emails.load(GATEWAY)
    assert raw.startswith(b"---- Original email message ----\n\n")
    result = ingest(raw)
    assert result.outcome == "new_ticket", result
    assert result.sender == "kunde@example.com"
    assert Ticket.objects.get().subject == "Beamer im Besprechungsraum"
    assert result.body == "Der Beamer im Besprechungsraum zeigt kein Bild mehr."
    row = InboundMail.objects.get()
    assert row.read_raw() == raw  # stored as received
    assert row.message_id == "<gw-4711.1738575000@example.com>"


@pytest.mark.parametrize(
    "prefix",
    [
        b"\n",
        b"\r\n",
        b"From kunde@example.com  Mon Feb  3 10:30:01 2025\n",
        b"From kunde@example.com  Mon Feb  3 10:30:01 2025\n"
        b"---- Original email message ----\n\n",
        b"=== forwarded by scan gateway ===\n \n\t\n",
    ],
)
def test_junk_lines_before_the_headers_are_skipped(prefix):
    factories.customer()
    raw = emails.build(subject="Mit Vorspann", body="Text.")
    result = ingest(prefix + raw)
    assert result.outcome == "new_ticket", result
    assert Ticket.objects.get().subject == "Mit Vorspann"


def test_at_most_five_junk_lines_are_skipped():
    raw = emails.build(subject="Mit Vorspann", body="Text.")
    assert rawmail.header_start(b"junk\n" * 5 + raw) == 25
    assert rawmail.header_start(b"junk\n" * 6 + raw) == 0
    assert parsing.parse(b"junk\n" * 6 + raw).sender_problem == "missing_from"


def test_real_headers_are_never_skipped():
    raw = emails.build(subject="Echt", body="Text.")
    first = b"X-Gateway-Note: scanned, clean\n"
    assert rawmail.header_start(first + raw) == 0
    parsed = parsing.parse(first + raw)
    assert parsed.header("X-Gateway-Note") == "scanned, clean"
    assert parsed.subject == "Echt"
    # Header-shaped lines without any mail header after junk: nothing skipped.
    assert rawmail.header_start(b"Vorspann\nNote: x\nOther: y\n\nText") == 0


def test_a_gateway_copy_is_a_duplicate_of_the_mail():
    factories.customer()
    raw = emails.load(GATEWAY)
    assert ingest(raw.split(b"\n\n", 1)[1]).outcome == "new_ticket"
    assert ingest(raw).outcome == "duplicate"


# --- item 9: not a mail ------------------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Rechnung.txt", "From: kunde@example.com\nSubject: x\n\n")
    return buffer.getvalue()


NOT_MAIL = {
    "outlook-msg": lambda: emails.load("outlook-saved-message.msg"),
    "pdf": lambda: emails.load("scan-sent-as-file.pdf"),
    "zip": _zip,
    "random": lambda: random.Random(16).randbytes(200_000),
    "text without headers": lambda: b"Hallo,\n\nbitte rufen Sie mich an.\n" * 500,
    "empty": lambda: b"",
}


@pytest.mark.parametrize("kind", NOT_MAIL)
def test_a_file_that_is_no_mail_is_held_as_such(kind):
    factories.customer()
    raw = NOT_MAIL[kind]()
    assert not rawmail.looks_like_mail(raw)
    result = ingest(raw, source=f"file:{kind}")
    assert (result.outcome, result.reason) == ("held", "not_a_mail"), result
    assert (result.body, result.attachments, result.ticket) == ("", [], None)
    row = InboundMail.objects.get()
    assert (row.state, row.reason) == (InboundState.HELD, "not_a_mail")
    assert (row.text, row.from_header, row.subject, row.sender) == ("", "", "", "")
    assert row.read_raw() == raw  # kept for staff, as it came
    assert Ticket.objects.count() == 0


#: What our MX puts before whatever it was handed.
MX_HEADERS = (
    b"Received: from client.example.com (client.example.com [192.0.2.7])\n"
    b"\tby mx.viva.de (Postfix) with ESMTPS id 4Q2w3x5Yz6\n"
    b"\tfor <helpdesk@viva.de>; Mon,  3 Feb 2025 10:30:01 +0100 (CET)\n"
)


@pytest.mark.parametrize("kind", ["outlook-msg", "pdf", "zip", "random"])
def test_a_file_behind_our_mx_headers_is_no_mail_either(kind):
    raw = MX_HEADERS + NOT_MAIL[kind]()
    assert not rawmail.looks_like_mail(raw)
    assert rawmail.looks_like_mail(MX_HEADERS + b"\nHallo, nur Text.\n")


def test_outlook_msg_is_recognised_by_its_compound_file_signature():
    raw = emails.load("outlook-saved-message.msg")
    assert raw.startswith(bytes.fromhex("d0cf11e0a1b11ae1"))
    assert "Drucker druckt nicht".encode("utf-16-le") in raw


@pytest.mark.django_db(transaction=True)  # reprocessing runs its task on commit
def test_not_a_mail_is_held_on_the_sweep_path_and_on_reprocessing():
    agent = factories.StaffFactory(username="notamail")
    row, _created = record(emails.load("outlook-saved-message.msg"), queue=False)
    assert process(row.pk).reason == "not_a_mail"
    row = held_actions.reprocess(row.pk, by=agent)
    assert (row.state, row.reason) == (InboundState.HELD, "not_a_mail")
    with translation.override("en"):
        assert held_mail.reason_label(row).startswith("Not a mail")


def test_every_real_mail_fixture_looks_like_a_mail():
    for path in sorted(emails.HERE.glob("*.eml")):
        assert rawmail.looks_like_mail(path.read_bytes()), path.name


def test_binary_body_after_real_headers_is_still_a_mail():
    raw = emails.build(
        body="Anhang.", attachments=[("a.bin", bytes(range(256)) * 4, "image/png")]
    )
    binary = raw.replace(b"Content-Transfer-Encoding: base64", b"X-Was: base64")
    assert rawmail.looks_like_mail(binary + b"\x00" * 4000)


def test_a_file_that_is_no_mail_cannot_be_accepted_by_staff():
    customer = factories.customer()
    ticket = factories.ticket(customer)
    ingest(NOT_MAIL["outlook-msg"](), source="file:msg")
    row = InboundMail.objects.get()
    with pytest.raises(held_actions.HeldMailError):
        held_actions.accept_as_reply(row.pk, ticket, by="agent")
    with pytest.raises(held_actions.HeldMailError):
        held_actions.accept_as_new_ticket(row.pk, by="agent")
    row.refresh_from_db()
    assert (row.state, row.reason) == (InboundState.HELD, "not_a_mail")
    assert ticket.messages.count() == 1
