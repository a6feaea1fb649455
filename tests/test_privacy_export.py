"""The data export's archive (``privacy.export``): everything of the customer
and nothing of anyone else (seed data in ``tests/privacy_support.py``)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.core.files.base import ContentFile
from django.utils import translation

from tests import factories
from tests.privacy_support import (
    ADDRESS,
    NAME,
    NOTE,
    NOTICE,
    OTHER_STRINGS,
    STAFF_REPLY,
    build,
    everything,
    seed,
    upload,
)
from vivadesk_wagtail.models import (
    DataRequest,
    InboundMail,
    TicketAttachment,
    TicketMessage,
)
from vivadesk_wagtail.privacy import export
from vivadesk_wagtail.services import attachments as attachment_service
from vivadesk_wagtail.services import uploads
from vivadesk_wagtail.storage import private_storage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


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
    kept = attachment_service.store(message, upload("kept.txt", b"kept"))
    gone = attachment_service.store(message, upload("gone.txt", b"gone"))
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
