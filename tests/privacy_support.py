"""Seed data and helpers of the data-export tests: a customer with every
kind of data, a look-alike second customer, and building an archive the way
the customer asks for it."""

from __future__ import annotations

import io
import zipfile

from tests import emails, factories
from vivadesk_wagtail.mail.inbound import ingest, record
from vivadesk_wagtail.models import (
    DataRequest,
    DataRequestState,
    InboundMail,
    MessageKind,
    OutboundEmail,
    PrivacyNoticeVersion,
    Ticket,
    TicketCounter,
    TicketStatus,
)
from vivadesk_wagtail.models.privacy import notice_digest
from vivadesk_wagtail.services import data_requests, intake, tickets, uploads
from vivadesk_wagtail.services.tickets import COUNTER_NAME
from vivadesk_wagtail.storage import private_storage

ADDRESS = "erika@example.com"
OTHER_ADDRESS = "erika@example.org"
NAME = "Erika Mustermann"
NOTE = "Interne Notiz: Kundin ist Stammkundin ZEBRA-NOTE-4410"
STAFF_REPLY = "Bitte starten Sie den Drucker neu. Antwort-Kennung QUAPPE-7781"
PDF = b"%PDF-1.4\n% Rechnung Erika\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
    b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff"
    b"\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa\x00\x00\x00\x00IEND\xaeB`\x82"
)
NOTICE = "<p>Wir verarbeiten Ihre Angaben zur Bearbeitung der Anfrage.</p>"
#: What only the second customer (the look-alike) has.
OTHER_STRINGS = [
    OTHER_ADDRESS,
    "OTTER-SUBJ-9915",
    "OTTER-BODY-2207",
    "OTTER-FORM-3318",
    "OTTER-MAIL-5529",
    "OTTER-FILE-CONTENT-6640",
    "otter-anhang",
    "OTTER-NOTE-7751",
]


def upload(name: str, data: bytes):
    return uploads.from_bytes(name, data)


def _contact_ticket(user_email: str, subject: str, body: str, form_value: str, files):
    return intake.submit(
        intake.Submission(
            name=NAME,
            email=user_email,
            subject=subject,
            message=body,
            language="de",
            form_data=[
                {
                    "name": "customer_number",
                    "label": "Kundennummer",
                    "value": form_value,
                }
            ],
            attachments=[upload(n, d) for n, d in files],
            signed_in=True,
        )
    )


def _reply_mail(ticket, sender: str, body: str, files=()) -> bytes:
    latest = OutboundEmail.objects.filter(ticket=ticket).latest("pk")
    return emails.build(
        sender=sender,
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=latest.message_id,
        body=body,
        attachments=list(files),
    )


def seed(agent) -> dict:
    """Two customers with the same name, addresses differing only in the
    domain, similar subjects and a reference that extends the other's."""
    erika = factories.customer(ADDRESS, name=NAME)
    other = factories.customer(OTHER_ADDRESS, name=NAME)
    form_ticket = _contact_ticket(
        ADDRESS,
        "Drucker druckt nicht im Büro",
        "Seit gestern kommen nur leere Seiten. Mein Text KAKTUS-1102",
        "K-4711-ERIKA",
        [("Rechnung März.pdf", PDF), ("foto.png", PNG)],
    )
    notice = PrivacyNoticeVersion.objects.create(
        sha256=notice_digest(NOTICE), text=NOTICE, language="de"
    )
    # Test setup only: no service sets the consent record yet.
    Ticket.objects.filter(pk=form_ticket.pk).update(privacy_notice=notice)
    tickets.add_message(
        form_ticket,
        tickets.NewMessage(
            body=STAFF_REPLY,
            kind=MessageKind.STAFF,
            author=agent,
            attachments=[upload("Anleitung.pdf", PDF + b"Anleitung")],
        ),
    )
    tickets.add_message(
        form_ticket,
        tickets.NewMessage(
            body=NOTE,
            kind=MessageKind.NOTE,
            author=agent,
            attachments=[upload("intern-notiz.txt", b"NOTE-FILE-SECRET-8812")],
        ),
    )
    tickets.change_status(form_ticket, TicketStatus.WAITING, by=agent)
    raw = _reply_mail(
        form_ticket,
        f"{NAME} <{ADDRESS}>",
        "Danke, nach dem Neustart geht es. Mail-Kennung MOTTE-3390\n",
        [("protokoll.txt", b"Zeile 1 Protokoll LURCH-2231\n", "text/plain")],
    )
    assert ingest(raw).outcome == "reply"
    mail_ticket = factories.ticket(
        erika, subject="Toner bestellen", body="Bitte Toner schicken GECKO-5501"
    )
    # The look-alike: same name, other domain, similar subject, and a
    # reference that begins with one of Erika's.
    form_number = form_ticket.number
    TicketCounter.objects.filter(name=COUNTER_NAME).update(
        value=form_number * 10 - 1000
    )
    other_ticket = _contact_ticket(
        OTHER_ADDRESS,
        "Drucker druckt nicht im Büro OTTER-SUBJ-9915",
        "Auch bei mir leere Seiten OTTER-BODY-2207",
        "OTTER-FORM-3318",
        [("otter-anhang.txt", b"OTTER-FILE-CONTENT-6640")],
    )
    assert other_ticket.reference == form_ticket.reference + "0"
    tickets.add_message(
        other_ticket,
        tickets.NewMessage(body="OTTER-NOTE-7751", kind=MessageKind.NOTE, author=agent),
    )
    other_raw = _reply_mail(
        other_ticket, f"{NAME} <{OTHER_ADDRESS}>", "Antwort OTTER-MAIL-5529\n"
    )
    assert ingest(other_raw).outcome == "reply"
    # A mail of the look-alike's address about Erika's ticket (say, held and
    # linked by hand): not Erika's mail.
    stray, _created = record(
        _reply_mail(form_ticket, f"{NAME} <{OTHER_ADDRESS}>", "OTTER-MAIL-5529 b\n"),
        queue=False,
    )
    InboundMail.objects.filter(pk=stray.pk).update(ticket=form_ticket)
    return {
        "erika": erika,
        "other": other,
        "tickets": [form_ticket, mail_ticket],
        "form_ticket": form_ticket,
        "other_ticket": other_ticket,
        "raw": raw,
    }


def build(user) -> zipfile.ZipFile:
    """Export ``user`` as the customer asks for it: the task, queued on
    commit, runs at once (django-q's ``sync`` in the test settings); the
    archive, opened."""
    request = data_requests.request_export(user)
    request.refresh_from_db()
    assert request.state == DataRequestState.READY
    with private_storage().open(request.file.name) as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def unqueued_export(user, monkeypatch) -> DataRequest:
    """An export request whose queued task was lost (never ran)."""
    with monkeypatch.context() as patch:
        patch.setattr(data_requests, "enqueue", lambda *args: None)
        return data_requests.request_export(user)


def everything(archive: zipfile.ZipFile) -> bytes:
    """Every member's name and decompressed bytes."""
    return b"\n".join(
        info.filename.encode() + b"\n" + archive.read(info)
        for info in archive.infolist()
    )
