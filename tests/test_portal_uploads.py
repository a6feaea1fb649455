"""Uploads in the portal and the download view: hostile names, hostile
types, limits, and the headers that keep a served file inert."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import factories
from tests.portal_support import PDF, PNG, alice, staff_reply, upload, url
from vivadesk_wagtail.models import TicketAttachment, TicketMessage
from vivadesk_wagtail.portal.downloads import content_disposition

GENERATED = re.compile(r"^vivadesk/attachments/\d{4}/\d{2}/[0-9a-f]{32}$")
BOUNDARY = "----vivadesk-test-boundary"
HOSTILE_NAMES = [
    "../../etc/passwd.png",
    "..\\..\\windows\\win.ini.png",
    "a\x00b.png",
    "zeile\r\nX-Injected: 1.png",
    "quo\"te's.png",
    "bild\u202efdp.png",
    "x" * 300 + ".png",
    "<script>alert(1)</script>.png",
]


def _files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "private"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _raw_multipart(fields: dict, filename: str, data: bytes) -> bytes:
    """A multipart body with a filename exactly as an attacker would send it
    (HTML entities let a browser-like client smuggle NUL, CR/LF and U+202E
    through; Django unescapes them)."""
    encoded = "".join(
        ch if ch.isprintable() and ch not in '"\\' else f"&#{ord(ch)};"
        for ch in filename
    )
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    head = "".join(parts) + (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="{encoded}"\r\nContent-Type: image/png\r\n\r\n'
    )
    return head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _check_stored(attachment: TicketAttachment) -> None:
    assert GENERATED.match(attachment.file.name), attachment.file.name
    name = attachment.original_name
    assert len(name) <= 255
    for bad in ("/", "\\", "\x00", "\r", "\n", '"', "\u202e", "<", ">"):
        assert bad not in name, (bad, name)


def _check_download(client, attachment: TicketAttachment, data: bytes) -> None:
    response = client.get(url("attachment", attachment.ticket.reference, attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "filename*=UTF-8''" in disposition
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.count('"') == 2
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_via_portal(client, name):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    body = _raw_multipart({"body": "Anhang", "key": "h" * 32}, name, PNG)
    response = client.post(
        url("comment", ticket.reference),
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 302, response.content[:2000]
    attachment = TicketAttachment.objects.get()
    _check_stored(attachment)
    page = client.get(url("ticket", ticket.reference)).content.decode()
    assert "<script>alert(1)" not in page
    assert "\u202e" not in page
    _check_download(client, attachment, PNG)


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_from_mail_are_shown_escaped(client, name):
    """Names that arrive by mail (not through Django's multipart parser)."""
    user = alice()
    ticket = factories.ticket(user)
    staff_reply(ticket, files=[(name, PNG)])
    attachment = TicketAttachment.objects.get()
    _check_stored(attachment)
    client.force_login(user)
    page = client.get(url("ticket", ticket.reference)).content.decode()
    assert "<script>alert(1)" not in page
    _check_download(client, attachment, PNG)


@pytest.mark.parametrize(
    "name",
    ["", "\r\n", '"; filename="evil.html', "ä\u202eö.pdf", "../x", "a" * 400],
)
def test_content_disposition_is_always_safe(name):
    header = content_disposition(name)
    assert header.startswith('attachment; filename="')
    assert "\r" not in header and "\n" not in header
    assert header.count('"') == 2
    assert header.isascii()


REFUSED = [
    ("seite.html", b"<!DOCTYPE html><html><body>hi</body></html>"),
    ("bild.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
    ("code.js", b"alert(document.cookie);\n"),
    ("getarnt.png", b"<html><script>alert(1)</script></html>"),
    ("polyglot.png", PNG + b"<html><script>alert(1)</script></html>"),
    ("programm.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data"), REFUSED)
def test_dangerous_types_are_refused(client, tmp_path, name, data):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = (TicketMessage.objects.count(), TicketAttachment.objects.count())
    files_before = _files(tmp_path)
    response = client.post(
        url("comment", ticket.reference, lang="en"),
        {"body": "Bitte ansehen", "key": "i" * 32, "attachments": [upload(name, data)]},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert errors and name.split(".")[0] in " ".join(errors)
    assert b"was not saved" in response.content
    assert (TicketMessage.objects.count(), TicketAttachment.objects.count()) == before
    assert _files(tmp_path) == files_before


@pytest.mark.django_db
def test_too_many_files_message_and_nothing_saved(client, settings, tmp_path):
    settings.VIVADESK = {**settings.VIVADESK, "ATTACHMENT_MAX_COUNT": 2}
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = (TicketMessage.objects.count(), TicketAttachment.objects.count())
    response = client.post(
        url("comment", ticket.reference, lang="en"),
        {
            "body": "Drei Dateien",
            "key": "j" * 32,
            "attachments": [upload(f"{n}.png", PNG) for n in range(3)],
        },
    )
    assert response.status_code == 200
    assert b"At most 2 files can be attached at once." in response.content
    assert (TicketMessage.objects.count(), TicketAttachment.objects.count()) == before
    assert _files(tmp_path) == []


@pytest.mark.django_db
def test_too_large_file_with_a_good_one_saves_nothing(client, settings, tmp_path):
    settings.VIVADESK = {**settings.VIVADESK, "ATTACHMENT_MAX_SIZE": 100}
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = (TicketMessage.objects.count(), TicketAttachment.objects.count())
    response = client.post(
        url("comment", ticket.reference, lang="en"),
        {
            "body": "Zu groß",
            "key": "k" * 32,
            "attachments": [upload("klein.pdf", PDF), upload("gross.png", PNG * 4)],
        },
    )
    assert response.status_code == 200
    assert "“gross.png” is larger than 100" in response.content.decode()
    assert (TicketMessage.objects.count(), TicketAttachment.objects.count()) == before
    assert _files(tmp_path) == []


@pytest.mark.django_db
def test_new_request_with_refused_file_opens_nothing(client, tmp_path):
    user = alice()
    client.force_login(user)
    response = client.post(
        url("new_request"),
        {
            "subject": "Mit Anhang",
            "body": "Text",
            "key": "l" * 32,
            "attachments": [upload("seite.html", b"<html></html>")],
        },
    )
    assert response.status_code == 200
    assert user.helpdesk_tickets.count() == 0
    assert _files(tmp_path) == []
