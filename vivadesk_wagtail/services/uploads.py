"""Checking files before they become attachments (forms, portal, mail).

The content type is decided from the file's first bytes with ``puremagic`` (a
well-kept, pure-Python magic-number database: no libmagic needed on the host),
never from the name or the type the sender declared. Markup and script types
(HTML, SVG, JavaScript, XML) are refused outright, whatever their name, and so
are files whose first kilobytes contain markup although their magic says image
or PDF (polyglots). Names are cleaned for display only: files are stored under
generated names.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import puremagic
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .. import conf

SNIFF_BYTES = 8192
FORBIDDEN_EXTENSIONS = {
    ".html",
    ".htm",
    ".xhtml",
    ".shtml",
    ".svg",
    ".svgz",
    ".js",
    ".mjs",
    ".xml",
    ".xsl",
    ".hta",
    ".php",
    ".exe",
    ".bat",
    ".cmd",
    ".com",
    ".scr",
    ".msi",
    ".ps1",
    ".vbs",
    ".jar",
    ".sh",
}
MARKUP_RE = re.compile(
    rb"<\s*(?:!doctype\s+html|html|script|svg|iframe|object|embed|body|head|meta)\b",
    re.IGNORECASE,
)
TEXT_TYPES = {"text/plain", "text/csv"}


@dataclass
class Upload:
    """A file on its way into the private storage."""

    name: str
    file: File
    size: int
    content_type: str = "application/octet-stream"
    content_id: str = ""


def clean_name(name: str) -> str:
    """A display name without path parts, control or bidi characters, and at
    most 255 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>'
    ).strip(" .")
    if not name:
        name = "attachment"
    stem, ext = os.path.splitext(name)
    if len(name) > 255:
        ext = ext[:16]
        name = stem[: 255 - len(ext)] + ext
    return name


def as_upload(obj) -> Upload:
    if isinstance(obj, Upload):
        return obj
    return Upload(
        name=clean_name(getattr(obj, "name", "") or "attachment"),
        file=obj,
        size=obj.size,
        content_type=getattr(obj, "content_type", None) or "application/octet-stream",
    )


def from_bytes(name: str, data: bytes, content_id: str = "") -> Upload:
    return Upload(
        name=clean_name(name),
        file=ContentFile(data),
        size=len(data),
        content_id=content_id,
    )


def _head(upload: Upload) -> bytes:
    upload.file.seek(0)
    head = upload.file.read(SNIFF_BYTES)
    upload.file.seek(0)
    return head if isinstance(head, bytes) else head.encode()


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    return True


def sniff(upload: Upload) -> str | None:
    """The content type the bytes show, or ``None`` for markup and unknowns."""
    head = _head(upload)
    if MARKUP_RE.search(head):
        return None
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        matches = []
    if matches:
        ext = os.path.splitext(upload.name)[1].lower()
        allowed = set(conf.get("ATTACHMENT_ALLOWED_TYPES"))
        same_ext = [m for m in matches if m.extension == ext and m.mime_type in allowed]
        usable = same_ext or [m for m in matches if m.mime_type in allowed]
        return (usable or matches)[0].mime_type or None
    if head and _looks_like_text(head):
        return "text/csv" if upload.name.lower().endswith(".csv") else "text/plain"
    return None


def validate(uploads: Iterable) -> list[Upload]:
    """Check count, size, name and content of every file; set its real type.

    Raises one ``ValidationError`` listing every refused file, before anything
    is written, so a refused upload leaves no half-saved rows or files.
    """
    checked = [as_upload(u) for u in uploads]
    limit = conf.get("ATTACHMENT_MAX_COUNT")
    if len(checked) > limit:
        raise ValidationError(
            _("At most %(count)d files can be attached at once.") % {"count": limit},
            code="too_many_files",
        )
    errors = []
    for upload in checked:
        error = _problem(upload)
        if error:
            errors.append(ValidationError(error, code="invalid_file"))
    if errors:
        raise ValidationError(errors)
    return checked


def _problem(upload: Upload) -> str | None:
    max_size = conf.get("ATTACHMENT_MAX_SIZE")
    if upload.size > max_size:
        return _("“%(name)s” is larger than %(size)s.") % {
            "name": upload.name,
            "size": filesizeformat(max_size),
        }
    if upload.size == 0:
        return _("“%(name)s” is empty.") % {"name": upload.name}
    if os.path.splitext(upload.name)[1].lower() in FORBIDDEN_EXTENSIONS:
        return _("Files of the type “%(name)s” cannot be attached.") % {
            "name": upload.name
        }
    content_type = sniff(upload)
    if content_type not in conf.get("ATTACHMENT_ALLOWED_TYPES"):
        return _(
            "“%(name)s” is not a file type we accept (for example PDF, images, "
            "office documents or plain text)."
        ) % {"name": upload.name}
    upload.content_type = content_type
    return None
