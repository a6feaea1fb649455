"""The data export's archive (``privacy.export``): everything of the customer
and nothing of anyone else, built by ``privacy_tasks.build_export`` and
rebuilt after a failed or killed attempt."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone, translation

from tests import emails, factories
from vivadesk_wagtail import privacy_tasks
from vivadesk_wagtail.mail.inbound import ingest, record
from vivadesk_wagtail.models import (
    DataRequest,
    DataRequestState,
    InboundMail,
    MessageKind,
    OutboundEmail,
    PrivacyNoticeVersion,
    Ticket,
    TicketAttachment,
    TicketCounter,
    TicketMessage,
    TicketStatus,
)
from vivadesk_wagtail.models.privacy import notice_digest
from vivadesk_wagtail.privacy import export
from vivadesk_wagtail.services import attachments as attachment_service
from vivadesk_wagtail.services import data_requests, intake, tickets, uploads
from vivadesk_wagtail.services.tickets import COUNTER_NAME
from vivadesk_wagtail.storage import private_storage, stored_files

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

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


def _upload(name: str, data: bytes):
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
            attachments=[_upload(n, d) for n, d in files],
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
            attachments=[_upload("Anleitung.pdf", PDF + b"Anleitung")],
        ),
    )
    tickets.add_message(
        form_ticket,
        tickets.NewMessage(
            body=NOTE,
            kind=MessageKind.NOTE,
            author=agent,
            attachments=[_upload("intern-notiz.txt", b"NOTE-FILE-SECRET-8812")],
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


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.srcs, self.scripts = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if attrs.get("src") or (tag == "link" and attrs.get("href")):
            self.srcs.append(attrs.get("src") or attrs.get("href"))
        self.scripts += tag == "script"


def test_archive_holds_everything_of_the_customer_and_nothing_else(agent):
    data = seed(agent)
    archive = build(data["erika"])
    blob = everything(archive)

    for text in OTHER_STRINGS:
        assert text.encode() not in blob, text
    assert data["other_ticket"].reference.encode() not in blob
    for secret in (NOTE, "ZEBRA-NOTE-4410", "NOTE-FILE-SECRET-8812", "intern-notiz"):
        assert secret.encode() not in blob, secret
    # Staff as the portal shows them: the help desk, never by name or address.
    for staff in ("Anna", "agent@viva.de"):
        assert staff.encode() not in blob, staff

    payload = json.loads(archive.read("data.json").decode("utf-8"))
    assert payload["format_version"] == 1
    assert payload["profile"]["email"] == ADDRESS
    assert payload["profile"]["full_name"] == NAME
    assert payload["profile"]["preferred_language"] == "de"
    assert payload["profile"]["confirmed_at"] is not None
    assert payload["profile"]["mail_undeliverable"] is False
    references = [t["reference"] for t in payload["tickets"]]
    assert references == [t.reference for t in data["tickets"]]
    form = payload["tickets"][0]
    assert form["form_data"] == [{"label": "Kundennummer", "value": "K-4711-ERIKA"}]
    assert form["privacy_notice"]["text"] == NOTICE
    # The staff reply opened it, the agent waited, the mail reopened it.
    assert form["status"] == {"code": "open", "label": "In Bearbeitung"}
    history = [(s["old"], s["new"]) for s in form["status_history"]]
    assert history == [("new", "open"), ("open", "waiting"), ("waiting", "open")]

    public = TicketMessage.objects.public().filter(ticket__customer=data["erika"])
    exported = [m for t in payload["tickets"] for m in t["messages"]]
    assert len(exported) == public.count() >= 6
    bodies = {m["body"] for m in exported}
    assert {m.body for m in public} <= bodies
    assert STAFF_REPLY in bodies
    staff = next(m for m in exported if m["body"] == STAFF_REPLY)
    assert staff["author"] == "VIVA HelpDesk"
    assert {m["kind"] for m in exported} >= {"customer", "staff", "event"}

    public_files = TicketAttachment.objects.filter(
        ticket__customer=data["erika"], message__kind__in=["customer", "staff"]
    )
    files = [a for m in exported for a in m["attachments"]]
    assert len(files) == public_files.count() == 4
    for row in public_files:
        entry = next(
            f for f in files if f["path"].split("/")[-1].startswith(f"{row.pk}-")
        )
        with row.file.open("rb") as handle:
            assert archive.read(entry["path"]) == handle.read()
        assert entry["sha256"] == row.sha256
        assert entry["path"].startswith(f"attachments/{data['form_ticket'].reference}/")

    mails = [m for t in payload["tickets"] for m in t["mails"]]
    assert len(mails) == 1
    assert archive.read(mails[0]["path"]) == data["raw"]
    own = InboundMail.objects.get(ticket=data["form_ticket"], sender=ADDRESS)
    assert archive.read(mails[0]["path"]) == own.read_raw()
    assert mails[0]["path"] == f"mails/{data['form_ticket'].reference}/{own.pk}.eml"

    request = DataRequest.objects.get(user=data["erika"])
    assert request.summary == {
        "tickets": 2,
        "messages": len(exported),
        "attachments": 4,
        "mails": 1,
        "data_requests": 1,
    }
    assert request.size == private_storage().size(request.file.name)


def test_index_is_self_contained_in_the_customers_language(agent):
    data = seed(agent)
    archive = build(data["erika"])
    page = archive.read("index.html").decode("utf-8")
    links = _Links()
    links.feed(page)
    assert links.scripts == 0
    assert links.srcs == []
    for ticket in data["tickets"]:
        assert ticket.reference in page
    members = set(archive.namelist())
    files = [h for h in links.hrefs if not h.startswith("#")]
    assert len(files) == 5  # four attachments and one mail
    assert {unquote(h) for h in files} <= members
    assert STAFF_REPLY in page
    assert NOTE not in page


def test_index_in_english_for_an_english_customer():
    customer = factories.customer(ADDRESS, name=NAME, language="en")
    ticket = factories.ticket(customer, subject="Printer", body="Empty pages")
    archive = build(customer)
    page = archive.read("index.html").decode("utf-8")
    assert '<html lang="en">' in page
    assert "Your data from the help desk" in page
    assert ticket.reference in page
    payload = json.loads(archive.read("data.json"))
    assert payload["language"] == "en"
    assert payload["tickets"][0]["status"]["label"] == "New"


def test_customer_without_tickets():
    customer = factories.customer(ADDRESS, name=NAME)
    archive = build(customer)
    assert sorted(archive.namelist()) == ["data.json", "index.html"]
    payload = json.loads(archive.read("data.json"))
    assert set(payload) == {
        "format_version",
        "generated_at",
        "language",
        "profile",
        "tickets",
        "data_requests",
    }
    assert payload["tickets"] == []
    assert [r["state"] for r in payload["data_requests"]] == ["pending"]
    assert DataRequest.objects.get(user=customer).summary["tickets"] == 0


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../evil.txt", "evil.txt"),
        ("..\\..\\evil.txt", "evil.txt"),
        ("\u202eexe.txt", "exe.txt"),
        ("Ärger\x00 mit: <Drucker>?.pdf", "Ärger mit_ _Drucker_.pdf"),
        ("...", "file"),
        (".htaccess", "htaccess"),
    ],
)
def test_safe_name(name, safe):
    assert export.safe_name(name) == safe


def test_file_names_are_made_safe_inside_the_archive():
    customer = factories.customer(ADDRESS, name=NAME)
    ticket = factories.ticket(customer)
    message = ticket.messages.get()
    for name in ("../../evil.txt", "Übersicht \u202egnp.exe", "/etc/passwd"):
        # Stored past the upload's own cleaning, as an older row might be.
        upload = uploads.Upload(name=name, file=ContentFile(b"x"), size=1)
        attachment_service.store(message, upload)
    archive = build(customer)
    names = archive.namelist()
    for member in names:
        parts = member.split("/")
        assert ".." not in parts and not member.startswith("/"), member
        assert "\u202e" not in member
    files = [n for n in names if n.startswith("attachments/")]
    assert len(files) == 3
    assert any(n.endswith("-evil.txt") for n in files)
    assert any(n.endswith("-passwd") for n in files)
    assert any("-Übersicht gnp.exe" in n for n in files)


def test_failure_midway_leaves_nothing_and_the_sweeper_finishes(monkeypatch, agent):
    data = seed(agent)
    request = unqueued_export(data["erika"], monkeypatch)
    calls = []
    copy = export._copy

    def failing_copy(source, archive, path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return copy(source, archive, path)

    monkeypatch.setattr(export, "_copy", failing_copy)
    with pytest.raises(OSError):
        privacy_tasks.build_export(request.pk)
    request.refresh_from_db()
    assert request.state == DataRequestState.PENDING
    assert request.last_error == "OSError"
    assert request.attempts == 1
    assert [n for n in stored_files() if "/exports/" in n] == []

    monkeypatch.setattr(export, "_copy", copy)
    DataRequest.objects.filter(pk=request.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    report = privacy_tasks.sweep_data_requests()
    assert report["exports_requeued"] == 1
    request.refresh_from_db()
    assert request.state == DataRequestState.READY
    assert request.attempts == 2
    assert request.last_error == ""
    assert [n for n in stored_files() if "/exports/" in n] == [request.file.name]
    assert request.summary["attachments"] == 4


def test_a_dead_workers_partial_file_is_replaced(monkeypatch):
    """A worker killed while saving leaves a partial file under the name the
    row already holds; the rerun removes it and writes one archive."""
    customer = factories.customer(ADDRESS, name=NAME)
    factories.ticket(customer)
    request = unqueued_export(customer, monkeypatch)
    request = data_requests.claim(request.pk, "export")
    partial = export.archive_name()
    data_requests.set_archive_name(request, partial)
    private_storage().save(partial, ContentFile(b"PK\x03\x04 half"))
    DataRequest.objects.filter(pk=request.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    privacy_tasks.sweep_data_requests()
    request.refresh_from_db()
    assert request.state == DataRequestState.READY
    assert request.file.name != partial
    assert [n for n in stored_files() if "/exports/" in n] == [request.file.name]
    with private_storage().open(request.file.name) as handle:
        assert zipfile.ZipFile(handle).testzip() is None


def test_archive_saved_under_another_name_is_refused(monkeypatch):
    customer = factories.customer(ADDRESS, name=NAME)
    name = export.archive_name()
    private_storage().save(name, ContentFile(b"taken"))
    with pytest.raises(FileExistsError):
        export.write_archive(customer, name)
    assert [n for n in stored_files() if "/exports/" in n] == [name]


def test_export_expires_after_its_period():
    customer = factories.customer(ADDRESS, name=NAME)
    factories.ticket(customer)
    build(customer)
    request = DataRequest.objects.get(user=customer)
    assert privacy_tasks.sweep_data_requests()["exports_expired"] == 0
    assert private_storage().exists(request.file.name)
    name = request.file.name
    assert request.expires_at == request.completed_at + timedelta(days=7)
    DataRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert privacy_tasks.sweep_data_requests()["exports_expired"] == 1
    request.refresh_from_db()
    assert request.state == DataRequestState.EXPIRED
    assert request.file.name == ""
    assert not private_storage().exists(name)
    assert list(stored_files("vivadesk/exports")) == []


def test_expires_when_the_period_is_over(settings):
    settings.VIVADESK = {**settings.VIVADESK, "EXPORT_VALID_FOR": timedelta(0)}
    customer = factories.customer(ADDRESS, name=NAME)
    build(customer)
    request = DataRequest.objects.get(user=customer)
    assert request.expires_at == request.completed_at
    privacy_tasks.sweep_data_requests()
    request.refresh_from_db()
    assert request.state == DataRequestState.EXPIRED
    assert list(stored_files("vivadesk/exports")) == []


def test_language_is_the_customers_not_the_active_one():
    customer = factories.customer(ADDRESS, name=NAME, language="de")
    with translation.override("en"):
        archive = build(customer)
    page = archive.read("index.html").decode("utf-8")
    assert '<html lang="de">' in page
    assert "Ihr Konto" in page
    assert "Your account" not in page


def test_a_file_no_longer_kept_is_listed_without_a_copy():
    customer = factories.customer(ADDRESS, name=NAME, language="en")
    ticket = factories.ticket(customer)
    message = ticket.messages.get()
    kept = attachment_service.store(message, _upload("kept.txt", b"kept"))
    gone = attachment_service.store(message, _upload("gone.txt", b"gone"))
    private_storage().delete(gone.file.name)
    archive = build(customer)
    files = json.loads(archive.read("data.json"))["tickets"][0]["messages"][0][
        "attachments"
    ]
    assert [(f["name"], f["path"] is not None) for f in files] == [
        ("kept.txt", True),
        ("gone.txt", False),
    ]
    assert archive.read(files[0]["path"]) == b"kept"
    assert files[1]["sha256"] == gone.sha256 and kept.sha256 == files[0]["sha256"]
    assert "gone.txt (file no longer kept)" in archive.read("index.html").decode()
    assert DataRequest.objects.get(user=customer).summary["attachments"] == 1


# -- a worker killed mid-build (PostgreSQL: the child shares the database) ---

REPO = Path(__file__).resolve().parents[1]
#: The child: build the export, stall after the first file (the test kills it
#: there with SIGKILL).
CHILD = """
import os, sys, time
import django
django.setup()
from vivadesk_wagtail import privacy_tasks
from vivadesk_wagtail.privacy import export
copy = export._copy
def stalling_copy(source, archive, path):
    result = copy(source, archive, path)
    open(os.environ["EXPORT_FLAG"], "w").close()
    time.sleep(120)
    return result
export._copy = stalling_copy
privacy_tasks.build_export(int(sys.argv[1]))
"""


def _child_env(settings, flag: Path) -> dict:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = (
        f"postgres://{db.get('USER') or 'postgres'}{password}@"
        f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )
    dropped = ("REDIS_URL", "EMAIL_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.fault_settings",
        DATABASE_URL=url,
        VIVADESK_FAULT_SECRET_KEY="export-kill-test",
        VIVADESK_FAULT_PRIVATE=settings.STORAGES["vivadesk_private"]["OPTIONS"][
            "location"
        ],
        EXPORT_FLAG=str(flag),
        PYTHONPATH=os.pathsep.join([str(REPO / "site"), str(REPO)]),
    )
    return env


@pytest.mark.postgres
def test_worker_killed_mid_build_is_finished_by_the_sweeper(
    agent, monkeypatch, settings, tmp_path
):
    data = seed(agent)
    request = unqueued_export(data["erika"], monkeypatch)
    flag = tmp_path / "copying"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(request.pk)],
        env=_child_env(settings, flag),
        cwd=REPO,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert child.poll() is None, "the child ended before it was killed"
            assert time.monotonic() < deadline, "the child never started copying"
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    request.refresh_from_db()
    assert request.state == DataRequestState.PENDING
    assert request.attempts == 1
    killed_name = request.file.name
    assert killed_name.startswith("vivadesk/exports/")
    assert not private_storage().exists(killed_name)

    DataRequest.objects.filter(pk=request.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    assert privacy_tasks.sweep_data_requests()["exports_requeued"] == 1
    request.refresh_from_db()
    assert request.state == DataRequestState.READY
    assert request.attempts == 2
    assert request.file.name != killed_name
    assert [n for n in stored_files() if "/exports/" in n] == [request.file.name]
    with private_storage().open(request.file.name) as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    payload = json.loads(archive.read("data.json"))
    assert [t["reference"] for t in payload["tickets"]] == [
        t.reference for t in data["tickets"]
    ]
    assert archive.testzip() is None
