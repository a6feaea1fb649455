"""Contact-form posts the spam traps caught: kept (:func:`catch`), reviewed,
accepted (:func:`accept`) or deleted (:func:`delete`, :func:`purge`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.files import File
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext
from wagtail.log_actions import log

from .. import conf
from ..models import CaughtSubmission
from ..storage import generated_name, private_storage
from . import intake, tickets, uploads

logger = logging.getLogger(__name__)

#: The hidden field's value is kept up to this length.
TRAP_VALUE_LENGTH = 300


class SpamError(ValueError):
    """The action cannot be applied (shown to staff)."""


def catch(submission: intake.Submission, reason: str, trap_value: str = "") -> int:
    """Keep a caught post; returns its id.

    Nothing else is made (no account, no ticket, no mail); its files go to
    the private storage, within ``SPAM_FILES_MAX_BYTES`` for all caught posts
    together. Files are removed once the transaction that let go of them
    commits; a file written for a row that was then rolled back is left to
    ``tasks.purge_orphan_files``.
    """
    files = _keep_files(submission.attachments)
    row = CaughtSubmission.objects.create(
        reason=reason,
        trap_value=(trap_value or "")[:TRAP_VALUE_LENGTH],
        name=submission.name,
        email=submission.email,
        subject=tickets.clean_subject(submission.subject),
        message=submission.message,
        language=submission.language or "",
        category=submission.category,
        contact_page=submission.contact_page,
        form_data=submission.form_data or [],
        idempotency_key=(submission.idempotency_key or "")[:64],
        files=files,
        kept_bytes=sum(item["size"] for item in files if item["path"]),
    )
    return row.pk


def _keep_files(attachments) -> list[dict]:
    """Store the files that fit into what is left of
    ``SPAM_FILES_MAX_BYTES``; the others are listed by name only."""
    if not attachments:
        return []
    used = CaughtSubmission.objects.aggregate(total=Sum("kept_bytes"))["total"] or 0
    room = conf.get("SPAM_FILES_MAX_BYTES") - used
    storage = private_storage()
    kept: list[dict] = []
    for attachment in attachments:
        upload = uploads.as_upload(attachment)
        item = {
            "path": "",
            "name": upload.name,
            "size": upload.size,
            "content_type": upload.content_type,
        }
        if upload.size <= room:
            upload.file.seek(0)
            item["path"] = storage.save_generated(generated_name("spam"), upload.file)
            room -= upload.size
        kept.append(item)
    return kept


def _lock(pk: int) -> CaughtSubmission:
    row = CaughtSubmission.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise SpamError(gettext("This post was accepted or deleted already."))
    return row


def submission_of(row: CaughtSubmission) -> intake.Submission:
    """The post as the form would have handed it to ``intake``: a stranger's
    (not signed in), its confirmation mail sent now."""
    return intake.Submission(
        name=row.name,
        email=row.email,
        subject=row.subject,
        message=row.message,
        language=row.language,
        category=row.category,
        contact_page=row.contact_page,
        form_data=row.form_data,
        attachments=_stored_uploads(row),
        idempotency_key=row.idempotency_key or f"caught-{row.pk}",
        acknowledge=True,
        signed_in=False,
    )


def _stored_uploads(row: CaughtSubmission) -> list[uploads.Upload]:
    storage = private_storage()
    found = []
    for item in row.kept_files:
        try:
            handle = storage.open(item["path"], "rb")
        except FileNotFoundError:
            logger.warning("Caught post %s: file %s is gone", row.pk, item["path"])
            continue
        found.append(
            uploads.Upload(
                name=item["name"],
                file=File(handle, item["name"]),
                size=item["size"],
                content_type=item["content_type"],
            )
        )
    return found


def accept(pk: int, *, by) -> intake.Outcome:
    """Open the ticket the post would have opened; the caught row and its
    files go. The ticket is opened through ``intake`` exactly as the form
    would have (account created or found, confirmation mail queued now, the
    post marked "sender not verified"); written to Wagtail's audit log."""
    with transaction.atomic():
        row = _lock(pk)
        submission = submission_of(row)
        try:
            outcome = intake.receive(submission)
        finally:
            for upload in submission.attachments:
                upload.file.close()
        ticket = outcome.ticket
        _log(row, "vivadesk.spam.accept", by, ticket=ticket.reference)
        tickets.log(
            ticket,
            "vivadesk.ticket.from_spam",
            user=by,
            data={"reason": row.reason, "caught": row.pk},
        )
        _remove(row)
    logger.info("Caught post %s accepted by %s as %s", pk, by, ticket.reference)
    return outcome


def delete(pk: int, *, by) -> None:
    """Remove a caught post and its files; written to Wagtail's audit log."""
    with transaction.atomic():
        row = _lock(pk)
        _log(row, "vivadesk.spam.delete", by)
        _remove(row)


def _log(row: CaughtSubmission, action: str, by, **data) -> None:
    """An audit-log entry of the row, which goes: its label is its number,
    not what it says (the log outlives ``SPAM_RETENTION``)."""
    log(
        row,
        action,
        user=by,
        title=f"#{row.pk}",
        deleted=True,
        data={"reason": row.reason, **data},
    )


def purge(now: datetime | None = None) -> int:
    """Delete caught posts older than ``SPAM_RETENTION``; returns how many."""
    deadline = (now or timezone.now()) - conf.get("SPAM_RETENTION")
    count = 0
    old = CaughtSubmission.objects.filter(created_at__lt=deadline).order_by("pk")
    for pk in old.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            row = CaughtSubmission.objects.select_for_update().filter(pk=pk).first()
            if row is not None:
                _remove(row)
                count += 1
    if count:
        logger.info("Purged %d caught contact-form posts", count)
    return count


def stored_paths():
    """The private storage's names of every kept file (for the orphan
    sweep, which must leave them alone)."""
    for files in CaughtSubmission.objects.values_list("files", flat=True):
        for item in files or []:
            if item.get("path"):
                yield item["path"]


def _remove(row: CaughtSubmission) -> None:
    paths = [item["path"] for item in row.kept_files]
    row.delete()
    if paths:
        transaction.on_commit(lambda: _delete_files(paths))


def _delete_files(paths: list[str]) -> None:
    storage = private_storage()
    for path in paths:
        storage.delete(path)
