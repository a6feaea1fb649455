"""Thumbnails and inline previews of attachments: only for whoever may
download the file, only images and PDFs inline and in a sandbox, and never
a server error for a file that is not what its stored type says."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from tests import factories
from tests.portal_support import PDF, PNG, alice, bob, url
from vivadesk_wagtail.models import Channel, MessageKind, TicketAttachment
from vivadesk_wagtail.portal import previews
from vivadesk_wagtail.services import attachments, tickets, uploads

pytestmark = pytest.mark.django_db


def jpeg(size=(640, 480), color=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels in a few bytes (a
    decompression bomb as far as a decoder's first look goes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def staff_reply(ticket, files, kind=MessageKind.STAFF):
    """A reply whose files passed the upload check (their type from their
    bytes), as the staff screen stores them."""
    return tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Siehe Anhang.",
            kind=kind,
            channel=Channel.STAFF,
            attachments=uploads.validate(uploads.from_bytes(n, d) for n, d in files),
        ),
    )


def note(ticket, files):
    return staff_reply(ticket, files, kind=MessageKind.NOTE)


def stored(ticket, name: str, data: bytes, content_type: str) -> TicketAttachment:
    """A row as it would be had the file passed the upload check with this
    type (tests of what the views do with rows whose bytes disagree)."""
    message = ticket.messages.order_by("pk").first()
    return attachments.store(
        message,
        uploads.Upload(
            name=name, file=ContentFile(data), size=len(data), content_type=content_type
        ),
    )


def thumb_url(attachment) -> str:
    return url("attachment_thumbnail", attachment.ticket.reference, attachment.pk)


def preview_url(attachment) -> str:
    return url("attachment_preview", attachment.ticket.reference, attachment.pk)


def download_url(attachment) -> str:
    return url("attachment", attachment.ticket.reference, attachment.pk)


def assert_inert(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "allow-same-origin" not in response["Content-Security-Policy"]
    assert "allow-scripts" not in response["Content-Security-Policy"]


@pytest.fixture
def owner_client():
    user = alice()
    client = Client()
    client.force_login(user)
    return user, client


def test_thumbnail_of_an_image_for_its_customer(owner_client):
    user, client = owner_client
    ticket = factories.ticket(user)
    staff_reply(ticket, files=[("foto.jpg", jpeg((1200, 600)))])
    attachment = TicketAttachment.objects.get()
    response = client.get(thumb_url(attachment))
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/jpeg", "image/png")
    assert_inert(response)
    with Image.open(io.BytesIO(response.content)) as small:
        assert max(small.size) <= 160
        assert small.size == (160, 80)
    # Served from the cache the second time, the same bytes.
    assert client.get(thumb_url(attachment)).content == response.content


def test_preview_of_images_and_pdfs_is_inline_and_sandboxed(owner_client):
    user, client = owner_client
    ticket = factories.ticket(user)
    staff_reply(ticket, files=[("foto.jpg", jpeg()), ("rechnung.pdf", PDF)])
    for attachment in TicketAttachment.objects.all():
        response = client.get(preview_url(attachment))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("inline; filename=")
        assert response["Content-Type"] == attachment.content_type
        assert_inert(response)
        assert b"".join(response.streaming_content).startswith(
            PDF[:5] if attachment.content_type == "application/pdf" else b"\xff\xd8"
        )
    pdf = TicketAttachment.objects.get(content_type="application/pdf")
    assert client.get(thumb_url(pdf)).status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        (
            "seite.html",
            b"<html><body><script>alert(1)</script></body></html>",
            "text/html",
        ),
        (
            "bild.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"></svg>',
            "image/svg+xml",
        ),
        ("getarnt.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("getarnt.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
        ("notiz.txt", b"nur Text\n", "text/plain"),
    ],
)
def test_markup_and_other_files_are_never_inline(
    owner_client, name, data, content_type
):
    user, client = owner_client
    attachment = stored(factories.ticket(user), name, data, content_type)
    response = client.get(preview_url(attachment))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Type"] in (content_type, "application/octet-stream")
    assert response["Content-Type"] not in ("text/html", "image/svg+xml")
    assert_inert(response)
    assert client.get(thumb_url(attachment)).status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        # A JPEG stored as a PNG: read only with the PNG decoder, refused.
        ("foto.png", jpeg(), "image/png"),
        # Not an image at all, although stored as a JPEG.
        ("foto.jpg", PDF, "image/jpeg"),
        # Cut off after the header.
        ("halb.jpg", jpeg()[:200], "image/jpeg"),
        # Decompression bombs: 64 and 900 million pixels in a few bytes.
        ("bombe.png", png_header_only(8_000, 8_000), "image/png"),
        ("riesig.png", png_header_only(30_000, 30_000), "image/png"),
    ],
)
def test_no_thumbnail_and_no_error_for_bad_images(
    owner_client, name, data, content_type
):
    user, client = owner_client
    attachment = stored(factories.ticket(user), name, data, content_type)
    assert client.get(thumb_url(attachment)).status_code == 404
    preview = client.get(preview_url(attachment))
    assert preview.status_code == 200
    assert preview["Content-Disposition"].startswith("attachment; filename=")


def _statuses(client, attachment) -> tuple[int, int, int]:
    return tuple(
        client.get(address).status_code
        for address in (
            download_url(attachment),
            thumb_url(attachment),
            preview_url(attachment),
        )
    )


def test_others_get_what_the_download_view_gives_them(editor, agent):
    owner = alice()
    ticket = factories.ticket(owner)
    staff_reply(ticket, files=[("foto.png", PNG)])
    attachment = TicketAttachment.objects.get()

    stranger = Client()
    stranger.force_login(bob())
    assert _statuses(stranger, attachment) == (404, 404, 404)

    anonymous = Client()
    responses = [
        anonymous.get(thumb_url(attachment)),
        anonymous.get(preview_url(attachment)),
    ]
    for response in responses:
        assert response.status_code == 302
        assert "login" in response["Location"]
        assert b"PNG" not in response.content

    editor_client = Client()
    editor_client.force_login(editor)
    assert _statuses(editor_client, attachment) == (404, 404, 404)

    agent_client = Client()
    agent_client.force_login(agent)
    assert _statuses(agent_client, attachment) == (200, 200, 200)


def test_files_of_internal_notes_stay_hidden_from_the_customer(owner_client):
    user, client = owner_client
    ticket = factories.ticket(user)
    note(ticket, files=[("intern.png", PNG)])
    attachment = TicketAttachment.objects.get()
    assert _statuses(client, attachment) == (404, 404, 404)


def test_unknown_attachment_or_wrong_ticket_is_a_404(owner_client):
    user, client = owner_client
    mine = factories.ticket(user)
    theirs = factories.ticket(bob())
    staff_reply(theirs, files=[("foto.png", PNG)])
    attachment = TicketAttachment.objects.get()
    for name in ("attachment_thumbnail", "attachment_preview"):
        assert client.get(url(name, mine.reference, attachment.pk)).status_code == 404
        assert client.get(url(name, mine.reference, 999_999)).status_code == 404


def test_ticket_page_shows_thumbnails_and_preview_links(owner_client):
    user, client = owner_client
    ticket = factories.ticket(user)
    staff_reply(
        ticket,
        files=[("foto.png", PNG), ("rechnung.pdf", PDF), ("notiz.txt", b"Text\n")],
    )
    page = client.get(url("ticket", ticket.reference, lang="en")).content.decode()
    image = TicketAttachment.objects.get(original_name="foto.png")
    pdf = TicketAttachment.objects.get(original_name="rechnung.pdf")
    text = TicketAttachment.objects.get(original_name="notiz.txt")
    assert url("attachment_thumbnail", ticket.reference, image.pk, lang="en") in page
    assert url("attachment_preview", ticket.reference, image.pk, lang="en") in page
    assert url("attachment_preview", ticket.reference, pdf.pk, lang="en") in page
    assert url("attachment_thumbnail", ticket.reference, pdf.pk, lang="en") not in page
    assert f"/attachments/{text.pk}/preview/" not in page
    assert f"/attachments/{text.pk}/thumbnail/" not in page
    assert ">Preview<" in page


def test_thumbnails_stop_at_the_pixel_limit_before_decoding(owner_client):
    user, _client = owner_client
    ticket = factories.ticket(user)
    bomb = stored(ticket, "bombe.png", png_header_only(8_000, 8_000), "image/png")
    with pytest.raises(ValueError, match="too many pixels"):
        previews.make_thumbnail(bomb)
    fine = stored(ticket, "klein.png", png_header_only(6_000, 6_000), "image/png")
    with pytest.raises(OSError):  # not the limit: its pixel data is missing
        previews.make_thumbnail(fine)
