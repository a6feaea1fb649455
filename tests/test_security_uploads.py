"""Uploads are checked whole (issue 15, item 9).

Markup hidden anywhere in an image, PDF or text file — not only in its first
8 KiB — is refused, images are decoded in full with Pillow (a header alone,
a truncated or corrupted image, a decompression bomb are refused), real
files made with Pillow and a minimal valid PDF still pass, and a 10 MiB file
is read once, in chunks. Every entry point (contact form, portal comment,
staff reply, inbound mail) goes through ``services/uploads.py``.
"""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import io
import os
import time
import tracemalloc
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image, PngImagePlugin

from tests import emails, factories
from tests.pages_support import post
from tests.portal_support import alice, url
from tests.staff_support import agents_group, screen_url
from vivadesk_wagtail.mail import inbound
from vivadesk_wagtail.models import (
    InboundMail,
    MessageKind,
    Ticket,
    TicketAttachment,
    TicketMessage,
)
from vivadesk_wagtail.services import uploads

SCRIPT = b"<script>alert(document.cookie)</script>"
PAST_HEAD = uploads.SNIFF_BYTES + 1000


def image_bytes(fmt: str, size=(64, 48), mode="RGB", **params) -> bytes:
    """A real image of ``fmt`` made with Pillow (a gradient: not all one
    colour, so the encoders have work to do)."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def animated_gif(frames: int = 3, size=(32, 32)) -> bytes:
    images = [Image.new("L", size, 40 * n) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:])
    return out.getvalue()


def pdf(*extra: bytes) -> bytes:
    """A minimal valid PDF (one empty page, a correct xref table), with
    ``extra`` as a content stream of the page."""
    content = b"".join(extra)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def png_with_text(text: bytes) -> bytes:
    """A valid PNG whose ``tEXt`` chunk holds ``text`` after 9 KiB of
    harmless words: Pillow reads it without complaint."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * PAST_HEAD + text.decode("latin-1"))
    return image_bytes("PNG", pnginfo=info)


def check(name: str, data: bytes) -> uploads.Upload:
    """``uploads.validate`` of one file; the checked upload."""
    (checked,) = uploads.validate([uploads.from_bytes(name, data)])
    return checked


def refused(name: str, data: bytes) -> str:
    """The messages (in English) of the check refusing ``data``."""
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            check(name, data)
        return " ".join(caught.value.messages)


# --- what passes -------------------------------------------------------------

LEGIT = [
    ("foto.png", lambda: image_bytes("PNG"), "image/png"),
    ("alpha.png", lambda: image_bytes("PNG", mode="RGBA"), "image/png"),
    ("foto.jpg", lambda: image_bytes("JPEG", quality=90), "image/jpeg"),
    ("progressiv.jpg", lambda: image_bytes("JPEG", progressive=True), "image/jpeg"),
    ("bild.gif", lambda: image_bytes("GIF"), "image/gif"),
    ("animiert.gif", animated_gif, "image/gif"),
    ("bild.webp", lambda: image_bytes("WEBP"), "image/webp"),
    ("rechnung.pdf", pdf, "application/pdf"),
    ("text.pdf", lambda: pdf(b"BT 10 10 Td (a < b > c) Tj ET"), "application/pdf"),
    ("notiz.txt", lambda: b"Hallo,\n5 < 6 und 7 > 3.\n" * 2000, "text/plain"),
]


@pytest.mark.parametrize(("name", "make", "content_type"), LEGIT)
def test_real_files_pass_with_their_type(name, make, content_type):
    checked = check(name, make())
    assert checked.content_type == content_type
    assert checked.file.tell() == 0  # ready to be stored from the start


# --- markup anywhere ---------------------------------------------------------

HIDDEN = [
    ("spaet.png", lambda: image_bytes("PNG") + b"\x00" * PAST_HEAD + SCRIPT),
    ("text-chunk.png", lambda: png_with_text(b"<svg onload=alert(1)>")),
    (
        "kommentar.jpg",
        lambda: image_bytes(
            "JPEG", comment=b"x" * PAST_HEAD + b"<IFRAME src=//evil.example>"
        ),
    ),
    (
        "hinten.gif",
        lambda: animated_gif() + b" " * PAST_HEAD + b"<HtMl><body onload=x>",
    ),
    ("hinten.webp", lambda: image_bytes("WEBP") + b"\n" * PAST_HEAD + SCRIPT),
    ("seite.pdf", lambda: pdf(b"%" + b"x" * PAST_HEAD + b"\n<!DOCTYPE HTML>")),
    ("link.pdf", lambda: pdf(b" " * PAST_HEAD, b"/URI (JavaScript:alert(1))")),
    ("lang.txt", lambda: b"Protokoll\n" * 1000 + b"<script src=x></script>"),
    ("daten.csv", lambda: b"a;b\n" * 3000 + b"1;<object data=x>\n"),
]


@pytest.mark.parametrize(("name", "make"), HIDDEN)
def test_markup_after_the_head_is_refused(name, make):
    data = make()
    assert len(data) > uploads.SNIFF_BYTES
    assert not uploads.has_markup(data[: uploads.SNIFF_BYTES])
    message = refused(name, data)
    assert name in message and "web page code" in message


def test_markup_across_a_chunk_boundary_is_found():
    size = uploads.SCAN_CHUNK * 2
    for split in (1, 4, 7, len(SCRIPT) - 1):
        start = uploads.SCAN_CHUNK - split
        body = b"%PDF-1.4\n" + b" " * (start - 9) + SCRIPT
        data = body + b" " * (size - len(body))
        assert data[start : start + len(SCRIPT)] == SCRIPT
        assert "web page code" in refused("grenze.pdf", data)


def test_a_tag_is_its_name_and_text_after_it():
    """``<svg`` needs white space, ``/`` or ``>`` after it, then text: inside
    another word (``<svgfont``), in an XMP packet, or followed by binary
    bytes (as by chance in compressed data) it is no tag."""
    for harmless in (
        b"<svgfont onload=alert(1)>",
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>",
        b"<3 <3 <3",
        b"<svg>\x00\x8f\xff\x10\x02\x99\xc3\x01",
    ):
        assert not uploads.has_markup(harmless), harmless
    for markup in (
        b"<svg/onload=alert(1)>",
        b"< script>alert(1)",
        b"<html\n<body>hi</body>",
        b"<!DOCTYPE  HTML>\n<p>x</p>",
        b"javascript :alert(1)",
    ):
        assert uploads.has_markup(markup), markup


# --- images are decoded ------------------------------------------------------


def _broken_crc(png: bytes) -> bytes:
    at = png.index(b"IDAT") + 4
    return png[:at] + bytes([png[at] ^ 0xFF]) + png[at + 1 :]


def _bad_pixels(png: bytes) -> bytes:
    """A PNG whose IDAT (with a correct CRC) does not inflate."""
    at = png.index(b"IDAT")
    length = int.from_bytes(png[at - 4 : at], "big")
    junk = os.urandom(length)
    crc = zlib.crc32(b"IDAT" + junk).to_bytes(4, "big")
    return png[: at + 4] + junk + crc + png[at + 4 + length + 4 :]


DAMAGED = [
    ("kopf.png", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64),
    ("halb.png", lambda: image_bytes("PNG", size=(300, 300))[:400]),
    ("crc.png", lambda: _broken_crc(image_bytes("PNG"))),
    ("pixel.png", lambda: _bad_pixels(image_bytes("PNG", size=(200, 200)))),
    ("halb.jpg", lambda: image_bytes("JPEG", size=(400, 400))[:600]),
    ("kopf.jpg", lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200),
    ("kopf.gif", lambda: b"GIF89a" + b"\x00" * 200),
    ("kopf.webp", lambda: b"RIFF\x00\x01\x00\x00WEBPVP8 " + b"\x00" * 200),
]


@pytest.mark.parametrize(("name", "make"), DAMAGED)
def test_damaged_images_are_refused(name, make):
    assert name in refused(name, make())


def test_decompression_bomb_is_refused_before_decoding():
    """100 million pixels in a few kilobytes (above Pillow's limit of about
    89 million): refused by the dimensions, never decoded."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    data = out.getvalue()
    assert len(data) < 100_000
    started = time.perf_counter()
    with pytest.warns(Image.DecompressionBombWarning):  # Pillow's own notice
        message = refused("bombe.png", data)
    assert "too large an image" in message
    assert time.perf_counter() - started < 1


def test_pixel_limit_counts_every_frame(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 32 * 32 * 2)
    check("zwei.gif", animated_gif(frames=2))
    assert "too large an image" in refused("drei.gif", animated_gif(frames=3))


# --- cost ----------------------------------------------------------------------


class CountingFile(io.BytesIO):
    """An in-memory file that counts the bytes read from it."""

    bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_ten_mib_pdf_is_read_once_in_chunks():
    size = 10 * 1024 * 1024 - 4096  # just below ATTACHMENT_MAX_SIZE
    data = pdf(b"%" + b"0123456789abcdef" * (size // 16))
    assert len(data) <= 10 * 1024 * 1024
    raw = CountingFile(data)
    upload = uploads.Upload(name="gross.pdf", file=File(raw), size=len(data))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        uploads.validate([upload])
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw.bytes_read <= len(data) + 4 * uploads.SNIFF_BYTES
    assert peak < 4 * uploads.SCAN_CHUNK, f"peak {peak} bytes"
    assert elapsed < 2, f"{elapsed:.2f} s"


def test_ten_mib_photo_is_checked_in_reasonable_time():
    noise = Image.frombytes("RGB", (1600, 1600), os.urandom(1600 * 1600 * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=98)
    data = out.getvalue()
    assert len(data) > 3 * 1024 * 1024
    started = time.perf_counter()
    assert check("foto.jpg", data).content_type == "image/jpeg"
    assert time.perf_counter() - started < 3


# --- every entry point -----------------------------------------------------------

POLYGLOT = ("bild.png", image_bytes("PNG") + b"\x00" * PAST_HEAD + SCRIPT)
REAL_PNG = ("echt.png", image_bytes("PNG"))


def _file(name_data) -> SimpleUploadedFile:
    name, data = name_data
    return SimpleUploadedFile(name, data, "image/png")


@pytest.mark.django_db(transaction=True)
def test_contact_form_refuses_the_polyglot_and_takes_the_real_image(site, client):
    response = post(client, "/en/contact/", attachments=[_file(POLYGLOT)])
    assert response.status_code == 200
    assert "web page code" in response.content.decode()
    assert Ticket.objects.count() == 0
    post(client, "/en/contact/", attachments=[_file(REAL_PNG)])
    assert TicketAttachment.objects.get().original_name == "echt.png"


@pytest.mark.django_db
def test_portal_comment_refuses_the_polyglot(client):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = TicketMessage.objects.count()
    response = client.post(
        url("comment", ticket.reference, lang="en"),
        {"body": "Bild", "key": "p" * 32, "attachments": [_file(POLYGLOT)]},
    )
    assert response.status_code == 200
    assert "web page code" in " ".join(response.context["form"].errors["attachments"])
    assert TicketMessage.objects.count() == before
    client.post(
        url("comment", ticket.reference, lang="en"),
        {"body": "Bild", "key": "q" * 32, "attachments": [_file(REAL_PNG)]},
    )
    assert TicketAttachment.objects.get().original_name == "echt.png"


@pytest.mark.django_db
def test_staff_reply_refuses_the_polyglot(client):
    ticket = factories.ticket()
    agent = factories.StaffFactory(username="uploadagent")
    agent.groups.add(agents_group())
    client.force_login(agent)

    def reply(name_data, key):
        return client.post(
            screen_url(ticket),
            {
                "action": "reply",
                "reply-body": "Anbei",
                "reply-idempotency_key": key * 32,
                "reply-attachments": [_file(name_data)],
            },
        )

    response = reply(POLYGLOT, "a")
    assert response.status_code == 200
    # The admin speaks the site's language (German) to this agent.
    assert "Webseiten-Code" in response.content.decode()
    assert not TicketMessage.objects.filter(kind=MessageKind.STAFF).exists()
    assert TicketAttachment.objects.count() == 0
    reply(REAL_PNG, "b")
    staff = TicketMessage.objects.get(kind=MessageKind.STAFF)
    assert [a.original_name for a in staff.attachments.all()] == ["echt.png"]


@pytest.mark.django_db
def test_inbound_mail_drops_the_polyglot_and_the_damaged_image():
    factories.customer()
    raw = emails.build(
        body="Siehe Anhang.",
        attachments=[
            (*POLYGLOT, "image/png"),
            ("kaputt.jpg", image_bytes("JPEG", size=(300, 300))[:500], "image/jpeg"),
            (*REAL_PNG, "image/png"),
        ],
    )
    result = inbound.ingest(raw)
    assert result.outcome == "new_ticket", result
    assert result.attachments == ["echt.png"]
    detail = InboundMail.objects.get().detail
    assert "bild.png" in detail and "kaputt.jpg" in detail
