"""Checking files before they become attachments (forms, portal, mail):
the type from the bytes, never the name; no markup, no polyglots, images
decoded in full (:func:`validate`). Names are cleaned for display only.
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
from PIL import Image, ImageSequence

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
#: Markup in lower-cased bytes: an HTML tag of these names (its name ends
#: where a browser ends it: white space, ``/`` or ``>``) followed by text
#: (8 printable bytes), or a ``javascript:`` URL. The text after the name
#: keeps random bytes of compressed data (photos, PDF streams) from looking
#: like a tag: ``<svg`` and a separator occur by chance about once in 16 GiB,
#: with the text after it about once in 30 TiB. Chunks are lower-cased and
#: scanned with a case-sensitive pattern, faster than ``IGNORECASE``
#: (docs/benchmarks.md).
MARKUP_RE = re.compile(
    rb"<\s{0,8}(?:!doctype\s{1,8}html|html|script|svg|iframe|object|embed|body"
    rb"|head|meta)(?=[\s/>][\x20-\x7e\s]{8})|javascript\s{0,8}:"
)
#: Bytes read per step of the whole-file scan, and how many of them are
#: read again with the next step (longer than any match of ``MARKUP_RE``).
SCAN_CHUNK = 1024 * 1024
SCAN_OVERLAP = 64
TEXT_TYPES = {"text/plain", "text/csv"}
#: Pixel limit of decoded images when the host set ``Image.MAX_IMAGE_PIXELS``
#: to ``None`` (Pillow's own default).
DEFAULT_MAX_PIXELS = 89_478_485
#: Types scanned whole for markup, besides images: their bytes are what a
#: browser or mail client would show. Archives and office files are
#: compressed containers (and mail may hold HTML), so only their head is.
SCANNED_TYPES = {"application/pdf", *TEXT_TYPES}
#: How messages name an accepted content type ("allowed: PDF, JPG, …"); a
#: type missing here is named by its subtype.
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "text/plain": "TXT",
    "text/csv": "CSV",
    "application/zip": "ZIP",
    "application/msword": "DOC",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.ms-excel": "XLS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "message/rfc822": "EML",
}


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


def allowed_type_names() -> str:
    """The accepted types as people name them: ``PDF, JPG, PNG, …`` (from
    ``ATTACHMENT_ALLOWED_TYPES``, in its order)."""
    names = (
        TYPE_NAMES.get(mime) or mime.rsplit("/", 1)[-1].rsplit(".", 1)[-1].upper()
        for mime in conf.get("ATTACHMENT_ALLOWED_TYPES")
    )
    return ", ".join(dict.fromkeys(names))


def type_refused_message(name: str) -> str:
    """The message for a file whose type is not accepted (also used by the
    browser check, see ``fields.browser_check_attrs``)."""
    return _("The file type of “%(name)s” is not allowed (allowed: %(allowed)s).") % {
        "name": name,
        "allowed": allowed_type_names(),
    }


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
    if has_markup(head):
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


def has_markup(data: bytes) -> bool:
    return MARKUP_RE.search(data.lower()) is not None


def carries_markup(upload: Upload) -> bool:
    """Whether markup appears anywhere in the file, read once in chunks: each
    chunk is searched, and so is its seam with the chunk before."""
    upload.file.seek(0)
    tail = b""
    try:
        while chunk := upload.file.read(SCAN_CHUNK):
            lowered = (chunk if isinstance(chunk, bytes) else chunk.encode()).lower()
            seam = tail + lowered[:SCAN_OVERLAP]
            if MARKUP_RE.search(seam) or MARKUP_RE.search(lowered):
                return True
            tail = lowered[-SCAN_OVERLAP:]
        return False
    finally:
        upload.file.seek(0)


def image_formats() -> dict[str, list[str]]:
    """Pillow's decoders by image content type (``image/jpeg`` → JPEG, MPO)."""
    Image.init()
    formats: dict[str, list[str]] = {}
    for name, mime in Image.MIME.items():
        if mime.startswith("image/"):
            formats.setdefault(mime, []).append(name)
    return formats


def image_problem(upload: Upload) -> str | None:
    """Why the file is not a whole image of its type, or ``None``: opened
    only with the decoders of that type, checked (``verify``), and every
    frame decoded, unless the frames together have more pixels than
    ``Image.MAX_IMAGE_PIXELS``."""
    formats = image_formats().get(upload.content_type)
    if formats is None:
        return None
    limit = Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS
    try:
        with Image.open(upload.file, formats=formats) as image:
            pixels = image.width * image.height * getattr(image, "n_frames", 1)
            if pixels > limit:
                return "too_many_pixels"
            image.verify()
        upload.file.seek(0)
        with Image.open(upload.file, formats=formats) as image:
            for frame in ImageSequence.Iterator(image):
                frame.load()
    except Image.DecompressionBombError:
        return "too_many_pixels"
    except Exception:  # noqa: BLE001 - a decoder's every error means "damaged"
        return "damaged"
    finally:
        upload.file.seek(0)
    return None


def validate(uploads: Iterable) -> list[Upload]:
    """Check count, size, name and content of every file; set its real type.

    The content type is decided from the file's first bytes with
    ``puremagic`` (a well-kept, pure-Python magic-number database: no
    libmagic needed on the host), never from the name or the type the sender
    declared (:func:`sniff`). Markup and script types (HTML, SVG, JavaScript,
    XML) are refused outright, whatever their name, and so are files that
    carry markup although their magic says image, PDF or text (polyglots):
    those are scanned whole, in chunks. Images are decoded in full with
    Pillow (every frame, at most ``Image.MAX_IMAGE_PIXELS`` pixels in all),
    so a damaged image or one that is only an image's header is refused.
    Files are stored under generated names: :func:`clean_name` is for
    display only.

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
        return type_refused_message(upload.name)
    if has_markup(_head(upload)):
        return _markup_message(upload)
    content_type = sniff(upload)
    if content_type not in conf.get("ATTACHMENT_ALLOWED_TYPES"):
        return type_refused_message(upload.name)
    upload.content_type = content_type
    return _content_problem(upload)


def _content_problem(upload: Upload) -> str | None:
    """Markup anywhere in an image, PDF or text; an image that does not
    decode."""
    is_image = upload.content_type.startswith("image/")
    if (is_image or upload.content_type in SCANNED_TYPES) and carries_markup(upload):
        return _markup_message(upload)
    problem = image_problem(upload) if is_image else None
    if problem == "too_many_pixels":
        limit = Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS
        return _(
            "“%(name)s” is too large an image (more than %(count)d million pixels)."
        ) % {"name": upload.name, "count": limit // 1_000_000}
    if problem:
        return _("“%(name)s” is damaged or not a complete image.") % {
            "name": upload.name
        }
    return None


def _markup_message(upload: Upload) -> str:
    return _(
        "“%(name)s” contains web page code (HTML or script) and cannot be attached."
    ) % {"name": upload.name}
