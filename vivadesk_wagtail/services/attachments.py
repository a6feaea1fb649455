"""Storing attachments in the private storage (:func:`store`)."""

from __future__ import annotations

import hashlib

from ..models import TicketAttachment, TicketMessage
from ..storage import attachment_upload_to, private_storage
from . import uploads


def store(message: TicketMessage, upload) -> TicketAttachment:
    """Store one upload (an :class:`uploads.Upload` or a Django file).

    Callers validate every upload first (``uploads.validate``), so a refused
    file never leaves half-saved rows or files. The file is written under a
    generated name before its row; should the row fail, the file is removed
    at once. A file whose transaction is rolled back later is removed by
    ``tasks.purge_orphan_files``, which deletes stored files no row refers
    to.
    """
    upload = uploads.as_upload(upload)
    digest = hashlib.sha256()
    upload.file.seek(0)
    for chunk in upload.file.chunks():
        digest.update(chunk)
    upload.file.seek(0)
    attachment = TicketAttachment(
        ticket_id=message.ticket_id,
        message=message,
        original_name=upload.name,
        size=upload.size,
        content_type=upload.content_type,
        sha256=digest.hexdigest(),
        content_id=upload.content_id,
    )
    attachment.file = private_storage().save_generated(
        attachment_upload_to(attachment, upload.name), upload.file
    )
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment
