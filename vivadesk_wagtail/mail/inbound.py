"""The inbound pipeline: store first, then process once.

:func:`record` stores a mail, :func:`process` handles its ``pending`` row
once; ``manage.py vivadesk_ingest`` and the mailbox poller use exactly these
functions (what that guarantees: docs/mail-guarantees.md).
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import conf, dberrors, statements
from ..models import InboundMail, InboundOutcome, InboundState
from ..models.inbound import raw_mail_upload_to
from ..queueing import enqueue
from ..services import inbound as service
from ..storage import private_storage
from . import parsing, rawmail

logger = logging.getLogger(__name__)

PROCESS_TASK = "vivadesk_wagtail.inbound_tasks.process_inbound"


@dataclass
class Result:
    """What happened to one mail (the JSON of ``vivadesk_ingest``)."""

    outcome: str
    ticket: str | None = None
    sender: str = ""
    subject: str = ""
    body: str = ""
    attachments: list[str] = field(default_factory=list)
    reason: str = ""
    pk: int | None = None

    def as_json(self, file: str) -> dict:
        return {
            "file": file,
            "outcome": self.outcome,
            "ticket": self.ticket,
            "from": self.sender,
            "subject": self.subject,
            "body": self.body,
            "attachments": self.attachments,
            "reason": self.reason,
        }


def _headers(raw: bytes):
    """The header block, or ``None`` if it cannot be read at all (or the
    bytes are no mail, :func:`rawmail.looks_like_mail`)."""
    if not rawmail.looks_like_mail(raw):
        return None
    try:
        return parsing.parse_headers(raw)
    except Exception:  # noqa: BLE001 - a summary must never stop the recording
        return None


def _summary(headers) -> tuple[str, str]:
    """From and Subject for the row, read from the header block only."""
    if headers is None:
        return "", ""
    try:
        from_header = " / ".join(
            parsing.header_text(v) for v in headers.get_all("From") or []
        )
        return from_header, parsing.header_text(headers.get("Subject", ""))
    except Exception:  # noqa: BLE001 - a summary must never stop the recording
        return "", ""


def record(
    raw: bytes, *, source: str = "", mailbox=None, queue: bool = True, headers=None
) -> tuple[InboundMail, bool]:
    """Store a mail durably; ``(row, created)``. Raises if it could not be
    stored, so the caller leaves the mail on its server. A mail recorded
    before is found by the unique dedupe key (its new file is removed).
    ``headers``: the caller parsed the mail already.

    The raw bytes go to the private storage, the
    :class:`~vivadesk_wagtail.models.InboundMail` row carries the unique
    dedupe key. Only when that committed may the mail leave the server; a
    second delivery of the same mail finds the row and changes nothing.
    """
    if headers is None:
        headers = _headers(raw)
    key, message_id = parsing.dedupe_key(raw, headers)
    from_header, subject = _summary(headers)
    row = InboundMail(
        dedupe_key=key,
        message_id=message_id,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        source=source[:255],
        mailbox=mailbox,
        from_header=from_header,
        subject=subject,
    )
    # Stored under the generated name as is (``FieldFile.save`` would only
    # normalise a name that has nothing to normalise).
    row.raw = private_storage().save_generated(
        raw_mail_upload_to(row, "mail.eml"), ContentFile(raw)
    )
    try:
        with transaction.atomic():
            statements.insert([row])
            if queue:
                enqueue(PROCESS_TASK, row.pk)
    except IntegrityError:
        row.raw.delete(save=False)
        return InboundMail.objects.get(dedupe_key=key), False
    except Exception:
        row.raw.delete(save=False)
        raise
    return row, True


def raw_of_mailbox_message(message) -> bytes:
    """The best copy of a django-mailbox ``Message`` we can get: the bytes our
    transports attached, else the stored original, else re-serialised."""
    email_object = getattr(message, "_email_object", None)
    raw = getattr(email_object, "vivadesk_raw", None)
    if raw:
        return raw
    if message.eml:
        with message.eml.open("rb") as handle:
            data = handle.read()
        if message.eml.name.endswith(".gz"):
            import gzip

            data = gzip.decompress(data)
        return data
    return message.get_email_object().as_bytes()


def record_mailbox_message(message) -> InboundMail:
    """Receiver of django-mailbox's ``message_received``: record only. If the
    write fails this raises, and django-mailbox keeps the mail on the server
    (IMAP, POP3). The ``Message`` row is marked ``read`` once recorded, so
    :func:`reconcile_mailbox_messages` finds the ones that were not."""
    from django_mailbox.models import Message

    row, _created = record(
        raw_of_mailbox_message(message),
        source=f"django-mailbox:{message.mailbox_id}",
        mailbox=message.mailbox,
    )
    Message.objects.filter(pk=message.pk).update(read=timezone.now())
    return row


def reconcile_mailbox_messages(limit: int = 200) -> int:
    """Record django-mailbox ``Message`` rows our receiver never recorded
    (a maildir removes the file before the signal; a failed write)."""
    from django_mailbox.models import Message

    count = 0
    unread = Message.incoming_messages.filter(read__isnull=True).order_by("pk")
    for message in unread[:limit]:
        try:
            record_mailbox_message(message)
        except Exception:  # noqa: BLE001 - retried on the next sweep
            logger.exception("Recording django-mailbox message %s failed", message.pk)
            continue
        count += 1
    return count


class _AlreadyProcessed(Exception):
    """Another worker processed the row first; this attempt is rolled back."""


def _claim_with(row: InboundMail, decision, parsed=None) -> None:
    """Move a ``pending`` row to its decision in one conditional UPDATE: the
    claim and the result are one statement, and of two workers racing for
    the same mail only one finds it still pending (the other's transaction
    is rolled back by :class:`_AlreadyProcessed`)."""
    fields = service.decision_fields(row, decision, parsed)
    for name, value in fields.items():
        setattr(row, name, value)
    updated = statements.update(
        row,
        [*fields, "updated_at"],
        increments=["attempts"],
        state=InboundState.PENDING,
    )
    if not updated:
        raise _AlreadyProcessed


def process(
    pk: int,
    row: InboundMail | None = None,
    raw: bytes | None = None,
    parsed: parsing.ParsedMail | None = None,
) -> Result:
    """Process one recorded mail exactly once; a row no longer ``pending``
    is left alone and its earlier result returned. ``row``, ``raw`` and
    ``parsed``: the caller has them in memory already (``ingest``).

    The work (parse, classify, match, write through ``services``) runs in
    one transaction that ends with the claim; if anything fails it is rolled
    back whole and the row is held, with the reason and traceback, in a
    second one — the mails after it go on. A transient database error
    (``dberrors``) leaves the row ``pending`` with a retry time instead
    (:func:`_retry_later`), until it happened ``INBOUND_TRANSIENT_ATTEMPTS``
    times. Rows left ``pending`` (a lost task, a crashed worker, mail
    recorded through django-mailbox's signal, a retry that is due) are
    processed by ``inbound_tasks.sweep_inbound``.
    """
    if row is None:
        row = InboundMail.objects.get(pk=pk)
    if row.state != InboundState.PENDING:
        return result_of(row)
    decision = None
    try:
        with transaction.atomic():
            if row.size > conf.get("INBOUND_MAX_SIZE"):
                # Kept and held, never processed: staff must hear of it.
                logger.warning(
                    "Inbound mail %s from %s (%d bytes) is over INBOUND_MAX_SIZE "
                    "and held for review",
                    row.pk,
                    row.from_header[:200],
                    row.size,
                )
                decision, parsed = service.held("too_large"), None
            else:
                if parsed is None:
                    raw = raw if raw is not None else row.read_raw()
                    parsed = _parse_mail(raw)
                decision = (
                    service.handle(row, parsed)
                    if parsed is not None
                    else service.held(NOT_A_MAIL)
                )
            _claim_with(row, decision, parsed)
    except _AlreadyProcessed:
        return result_of(InboundMail.objects.get(pk=row.pk))
    except parsing.MalformedMailError as exc:
        decision, parsed = service.held("malformed_mime"), None
        row.detail = str(exc)
        return _hold(row, decision, None)
    except Exception as exc:  # noqa: BLE001 - one bad mail never blocks the rest
        if dberrors.is_transient(exc):
            return _retry_later(row, exc, parsed)
        if not InboundMail.objects.pending().filter(pk=row.pk).exists():
            # Another worker processed it meanwhile (this one then trips
            # over the unique keys of what that one wrote): not an error.
            return result_of(InboundMail.objects.get(pk=row.pk))
        logger.exception("Processing inbound mail %s failed", row.pk)
        decision = service.held("error")
        decision.outcome = InboundOutcome.ERROR
        row.detail = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"
        if isinstance(exc, RecursionError):
            parsed = None
        elif parsed is None:
            parsed = _safe_parse(row)
        return _hold(row, decision, parsed)
    result = result_of(row)
    if parsed is not None and decision.message is None:
        result.attachments = [p.name for p in parsed.parts]
    return result


#: Held reason of bytes that are no RFC 822 message (an Outlook ``.msg``, a
#: PDF, random data): kept for staff as they came, never parsed.
NOT_A_MAIL = "not_a_mail"


def _parse_mail(raw: bytes) -> parsing.ParsedMail | None:
    """``raw`` parsed, or ``None`` if it is no mail."""
    if not rawmail.looks_like_mail(raw):
        return None
    return parsing.parse(raw)


def _hold(row: InboundMail, decision, parsed) -> Result:
    """Hold a row whose processing failed (its work was rolled back)."""
    try:
        with transaction.atomic():
            _claim_with(row, decision, parsed)
    except _AlreadyProcessed:
        return result_of(InboundMail.objects.get(pk=row.pk))
    result = result_of(row)
    if parsed is not None:
        result.attachments = [p.name for p in parsed.parts]
    return result


#: Held reason of a mail whose processing met a transient database error
#: ``INBOUND_TRANSIENT_ATTEMPTS`` times.
TRANSIENT_ERROR = "transient_error"


def _retry_later(row: InboundMail, exc: BaseException, parsed) -> Result:
    """After a transient database error: count the failure on the row, which
    stays ``pending`` until its retry time, or hold it once it has failed
    ``INBOUND_TRANSIENT_ATTEMPTS`` times. If even that cannot be written the
    row is left as it was; the sweeper takes it after ``INBOUND_STUCK_AFTER``."""
    error = dberrors.describe(exc)
    logger.warning("Processing inbound mail %s failed, retrying: %s", row.pk, error)
    dberrors.recover(statements.connection_for(InboundMail))
    try:
        fresh = InboundMail.objects.get(pk=row.pk)
        if fresh.state != InboundState.PENDING:
            return result_of(fresh)
        failures = fresh.attempts + 1
        if failures < conf.get("INBOUND_TRANSIENT_ATTEMPTS"):
            return _schedule_retry(fresh, error, failures)
        logger.error("Inbound mail %s held after %d attempts", row.pk, failures)
        decision = service.held(TRANSIENT_ERROR)
        decision.outcome = InboundOutcome.ERROR
        fresh.detail = f"{error}\n\n{''.join(traceback.format_exception(exc))}"
        return _hold(fresh, decision, parsed or _safe_parse(fresh))
    except Exception:  # noqa: BLE001 - the row stays pending for the sweeper
        logger.exception("Recording the failure of inbound mail %s failed", row.pk)
        dberrors.recover(statements.connection_for(InboundMail))
    return _pending(row, error)


def _schedule_retry(row: InboundMail, error: str, failures: int) -> Result:
    """Count one failure of a ``pending`` row and set its retry time: the
    delay doubles from ``INBOUND_RETRY_DELAY`` up to ``INBOUND_RETRY_MAX_DELAY``."""
    delay = min(
        conf.get("INBOUND_RETRY_DELAY") * 2 ** min(failures - 1, 20),
        conf.get("INBOUND_RETRY_MAX_DELAY"),
    )
    row.detail = error
    row.next_attempt_at = timezone.now() + delay
    with transaction.atomic():
        updated = statements.update(
            row,
            ["detail", "next_attempt_at", "updated_at"],
            increments=["attempts"],
            state=InboundState.PENDING,
        )
    if not updated:  # another worker processed it meanwhile
        return result_of(InboundMail.objects.get(pk=row.pk))
    row.attempts = failures
    return _pending(row, error)


def _pending(row: InboundMail, error: str) -> Result:
    """The result of an attempt that left the row ``pending``."""
    return Result(
        outcome="retry",
        sender=row.sender or row.from_header,
        subject=row.subject,
        reason=error,
        pk=row.pk,
    )


def _safe_parse(row: InboundMail):
    try:
        return _parse_mail(row.read_raw())
    except Exception:  # noqa: BLE001 - the held row keeps what it has
        return None


def result_of(row: InboundMail) -> Result:
    message = row.ticket_message
    if message is not None:
        body = message.body
        attachments = [a.original_name for a in message.attachments.all()]
    else:
        body, attachments = row.text, []
    return Result(
        outcome=row.outcome or ("held" if row.state == InboundState.HELD else ""),
        ticket=row.ticket.reference if row.ticket_id else None,
        sender=row.sender or row.from_header,
        subject=row.subject,
        body=body,
        attachments=attachments,
        reason=row.reason,
        pk=row.pk,
    )


def ingest(raw: bytes, *, source: str = "") -> Result:
    """Record and process one mail now (``vivadesk_ingest``, tests); a mail
    seen before gives ``duplicate``, unless it was never processed.

    The mail is parsed once, up front, for both steps (the file it came from
    is still there if that crashes); one that cannot be parsed is recorded
    all the same, and processing holds it."""
    parsed = _parse_early(raw)
    headers = parsed.message if parsed is not None else None
    try:
        row, created = record(raw, source=source, queue=False, headers=headers)
    except Exception as exc:  # noqa: BLE001 - report, never crash the batch
        logger.exception("Recording %s failed", source)
        return Result(outcome="error", reason=f"{type(exc).__name__}: {exc}")
    if not created and row.state != InboundState.PENDING:
        result = result_of(row)
        result.outcome, result.reason = "duplicate", row.outcome or row.reason
        return result
    if not created:
        return process(row.pk, row)
    return process(row.pk, row, raw, parsed)


def _parse_early(raw: bytes) -> parsing.ParsedMail | None:
    """The parse :func:`ingest` shares between recording and processing;
    ``None`` for mail over ``INBOUND_MAX_SIZE`` (never parsed), bytes that
    are no mail, or mail that does not parse (processing holds them with
    the reason)."""
    if len(raw) > conf.get("INBOUND_MAX_SIZE"):
        return None
    try:
        return _parse_mail(raw)
    except Exception:  # noqa: BLE001 - processing parses again and holds it
        return None
