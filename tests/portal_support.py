"""Helpers shared by the portal tests: sample files, customers, messages."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from tests import factories
from vivadesk_wagtail.models import Channel, MessageKind
from vivadesk_wagtail.services import tickets, uploads

# A whole 1×1 PNG: uploads are decoded (services/uploads.py), a header alone
# is refused.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00"
    b"\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
NOTE_TEXT = "INTERNAL-NOTE-SECRET customer is grumpy"


def url(name: str, *args, lang: str = "de") -> str:
    with translation.override(lang):
        return reverse(f"vivadesk_wagtail:{name}", args=args)


def alice():
    return factories.customer("alice@example.com", name="Alice Alpha")


def bob():
    return factories.customer("bob@example.com", name="Bob Beta")


def _staff_message(ticket, body, kind, files):
    return tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=body,
            kind=kind,
            channel=Channel.STAFF,
            attachments=[uploads.from_bytes(n, d) for n, d in files],
        ),
    )


def staff_reply(ticket, body="Bitte starten Sie den Drucker neu.", files=()):
    return _staff_message(ticket, body, MessageKind.STAFF, files)


def note(ticket, body=NOTE_TEXT, files=()):
    return _staff_message(ticket, body, MessageKind.NOTE, files)


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def form_key(response) -> str:
    """The idempotency key the page put into its form."""
    form = response.context["form"]
    return form.initial.get("key") or form["key"].value()
