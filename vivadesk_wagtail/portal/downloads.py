"""Serving attachments from the private storage, to the ticket's customer and
agents only, always download-only and inert (:func:`download`).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from .. import conf
from . import queries

ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]")


def ascii_fallback(name: str) -> str:
    """A plain-ASCII ``filename=`` for old clients: accents folded, anything
    else (quotes, slashes, controls, bidi marks) replaced by ``_``."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    folded = ASCII_UNSAFE.sub("_", folded).strip(" .")
    return folded[:150] or "attachment"


def content_disposition(name: str) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…`` for any stored name."""
    cleaned = (
        "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
        .replace("/", "_")
        .replace("\\", "_")
        or "attachment"
    )
    return "attachment; filename=\"{}\"; filename*=UTF-8''{}".format(
        ascii_fallback(cleaned), quote(cleaned, safe="")
    )


def served_type(content_type: str) -> str:
    """The stored (content-checked) type if we accept it, else opaque bytes."""
    if content_type in conf.get("ATTACHMENT_ALLOWED_TYPES"):
        return content_type
    return "application/octet-stream"


@require_safe
@login_required
def download(request, reference: str, pk: int):
    """Only the ticket's customer (and help-desk agents) get a file; everybody
    else gets a 404 that does not tell whether it exists. Files are always
    served download-only and inert (decision 5 of DESIGN.md):
    ``Content-Disposition: attachment`` with an RFC 5987 ``filename*``,
    ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy:
    default-src 'none'; sandbox``."""
    attachment = queries.downloadable_attachment(request.user, reference, pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404() from exc
    response = FileResponse(handle, content_type=served_type(attachment.content_type))
    response["Content-Disposition"] = content_disposition(attachment.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
