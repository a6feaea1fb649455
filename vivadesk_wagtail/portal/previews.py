"""Thumbnails and inline previews of attachments, behind the download view's
permission check (``queries.downloadable_attachment``): images are read
only with the decoders of their stored (content-checked) type and within a
pixel limit; only images and PDFs are ever shown inline, in a sandbox.
"""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_safe
from PIL import Image, ImageOps

from ..services import uploads
from . import downloads, queries

#: Longest side of a thumbnail, in pixels.
THUMBNAIL_SIZE = 160
#: Images with more pixels get no thumbnail (decoding them would take the
#: memory and time of a decompression bomb).
THUMBNAIL_MAX_PIXELS = 40_000_000
#: How long Django's cache keeps a thumbnail.
THUMBNAIL_CACHE_SECONDS = 7 * 24 * 3600
PDF_MAGIC = b"%PDF-"


def _accepted(attachment) -> bool:
    """Whether the stored type is one the site still accepts."""
    return downloads.served_type(attachment.content_type) == attachment.content_type


def is_image(attachment) -> bool:
    """Whether the stored type is an accepted image type Pillow decodes."""
    return attachment.content_type in uploads.image_formats() and _accepted(attachment)


def is_previewable(attachment) -> bool:
    """Whether the stored type may be shown inline: an accepted image or PDF."""
    if attachment.content_type == "application/pdf":
        return _accepted(attachment)
    return is_image(attachment)


def _open_image(attachment) -> Image.Image:
    """The attachment as an image of its stored type, else ``ValueError``."""
    formats = uploads.image_formats().get(attachment.content_type)
    if not formats:
        raise ValueError("not an image")
    with attachment.file.storage.open(attachment.file.name, "rb") as handle:
        data = handle.read()
    image = Image.open(io.BytesIO(data), formats=formats)
    if image.width * image.height > THUMBNAIL_MAX_PIXELS:
        raise ValueError("too many pixels")
    return image


def make_thumbnail(attachment) -> tuple[bytes, str]:
    """PNG or JPEG bytes of a small copy of the image, and their type."""
    with _open_image(attachment) as image:
        image.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))
        small = ImageOps.exif_transpose(image)
        small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        out = io.BytesIO()
        if small.mode in ("RGBA", "LA", "P"):
            small.convert("RGBA").save(out, "PNG", optimize=True)
            return out.getvalue(), "image/png"
        small.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue(), "image/jpeg"


#: Policy of a file shown inline: no script, nothing loaded but the file;
#: the browser's own viewer may style its page (an image is centred by
#: inline styles).
INLINE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
STRICT_POLICY = "default-src 'none'; sandbox"


def _inert(response, disposition: str, policy: str = STRICT_POLICY):
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = policy
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Disposition"] = disposition
    return response


def _cached_thumbnail(attachment) -> tuple[bytes, str]:
    """The thumbnail from Django's cache (by content hash), made if missing."""
    key = f"vivadesk:thumb:{THUMBNAIL_SIZE}:{attachment.content_type}:"
    key += attachment.sha256 or f"pk{attachment.pk}"
    found = cache.get(key)
    if found is None:
        found = make_thumbnail(attachment)
        cache.set(key, found, timeout=THUMBNAIL_CACHE_SECONDS)
    return found


@require_safe
@login_required
def thumbnail(request, reference: str, pk: int):
    """A small copy of an image attachment, for whoever may download it
    (a 404 for everybody else, and for anything that is no whole image of
    its stored type). Kept in Django's cache; like every portal response it
    is ``private, no-store`` for browsers (``middleware``)."""
    attachment = queries.downloadable_attachment(request.user, reference, pk)
    if not is_image(attachment):
        raise Http404()
    try:
        data, content_type = _cached_thumbnail(attachment)
    except Exception as exc:  # noqa: BLE001 - any decoder error: no thumbnail
        raise Http404() from exc
    response = HttpResponse(data, content_type=content_type)
    return _inert(response, 'inline; filename="thumbnail"')


def _shows_inline(attachment, handle) -> bool:
    """Whether the bytes are what the stored type says, for inline use."""
    head = handle.read(len(PDF_MAGIC))
    handle.seek(0)
    if attachment.content_type == "application/pdf":
        return head == PDF_MAGIC
    try:
        with _open_image(attachment) as image:
            image.verify()
    except Exception:  # noqa: BLE001 - any decoder error means "not inline"
        return False
    return True


@require_safe
@login_required
def preview(request, reference: str, pk: int):
    """An image or PDF shown in the browser (``Content-Disposition: inline``)
    in a sandbox without script; any other file, or one whose bytes are not
    its stored type, is the usual download."""
    attachment = queries.downloadable_attachment(request.user, reference, pk)
    if not is_previewable(attachment):
        return downloads.download(request, reference, pk)
    try:
        handle = attachment.file.open("rb")
    except OSError as exc:
        raise Http404() from exc
    if not _shows_inline(attachment, handle):
        handle.close()
        return downloads.download(request, reference, pk)
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Cache-Control"] = "private, no-store"
    name = downloads.content_disposition(attachment.original_name)
    disposition = name.replace("attachment;", "inline;", 1)
    return _inert(response, disposition, INLINE_POLICY)
