"""Polling django-mailbox ``Mailbox`` rows, store-first and one at a time.

The transports are django-mailbox's (IMAP with ``?archive=``, POP3, Gmail,
Office 365), driven by this module instead of ``Mailbox.get_new_mail()``:

* the raw bytes each transport fetched are kept and recorded as an
  :class:`InboundMail` *before* the transport flags the mail deleted (IMAP
  and POP3 delete only after the generator resumes); if recording fails the
  loop stops and the mail stays on the server;
* django-mailbox's own ``Message`` rows are not written: their 255-character
  ``from_header`` is a poison message on PostgreSQL (its #218), they store a
  re-serialised copy, not the bytes, and attachments in the public default
  storage;
* maildirs are read with a transport that removes a mail only after it was
  recorded (django-mailbox removes it before its handler runs);
* a lease row (:class:`MailboxPoll`) taken by a conditional UPDATE keeps a
  second worker off a mailbox being polled; one mailbox failing never stops
  the others, and its consecutive failures are counted for monitoring.
"""

from __future__ import annotations

import logging
import mailbox as stdlib_mailbox
import socket
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_mailbox.models import Mailbox

from ..models import MailboxPoll
from . import inbound

logger = logging.getLogger(__name__)

#: How long a poller may hold a mailbox before another one may take over.
LEASE = timedelta(minutes=10)
#: Seconds a network mailbox may take to answer before the poll fails.
TIMEOUT = 60
#: Consecutive failed polls after which each failure is logged as an error.
ALERT_AFTER = 3


class SafeMaildirTransport:
    """Maildir, removing each mail only after it was recorded."""

    def __init__(self, path: str):
        self.path = path

    def get_message(self, condition=None):
        box = stdlib_mailbox.Maildir(self.path, factory=None, create=False)
        for key in list(box.iterkeys()):
            try:
                raw = box.get_bytes(key)
            except KeyError:
                continue
            yield _with_raw(raw)
            box.discard(key)

    def close(self) -> None:
        pass


class _RawMessage:
    """What a transport yields to us: just the bytes it fetched."""

    def __init__(self, raw: bytes):
        self.vivadesk_raw = raw


def _with_raw(raw: bytes) -> _RawMessage:
    return _RawMessage(raw)


@contextmanager
def _socket_timeout(seconds: float):
    """django-mailbox opens IMAP/POP3 sockets without a timeout; give the
    ones opened while connecting one (a worker is one process per task)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def connect(box: Mailbox):
    """The transport of a mailbox, yielding :class:`_RawMessage` objects."""
    if box.type == "maildir":
        return SafeMaildirTransport(box.location)
    with _socket_timeout(TIMEOUT):
        connection = box.get_connection()
    if connection is None:
        return None
    # The transports parse bytes with ``get_email_from_bytes``; keep the bytes
    # instead, so what we store is exactly what the server had.
    connection.get_email_from_bytes = _with_raw
    return connection


def acquire(box: Mailbox) -> str | None:
    """Take the mailbox's lease; ``None`` if another poller holds it."""
    MailboxPoll.objects.get_or_create(mailbox=box)
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = (
        MailboxPoll.objects.filter(mailbox=box)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + LEASE, locked_by=token)
    )
    return token if taken else None


def release(box: Mailbox, token: str, *, error: str = "") -> None:
    rows = MailboxPoll.objects.filter(mailbox=box, locked_by=token)
    if error:
        poll = rows.first()
        failures = (poll.failures if poll else 0) + 1
        log = logger.error if failures >= ALERT_AFTER else logger.warning
        log("Polling mailbox %s failed %d time(s): %s", box.name, failures, error)
        rows.update(
            locked_until=None, locked_by="", failures=failures, last_error=error
        )
    else:
        rows.update(
            locked_until=None,
            locked_by="",
            failures=0,
            last_error="",
            last_success_at=timezone.now(),
        )


def poll_mailbox(box: Mailbox) -> int:
    """Fetch and record every mail of one mailbox; returns how many were new.
    Raises on connection or storage errors (after releasing the lease)."""
    token = acquire(box)
    if token is None:
        logger.info("Mailbox %s is being polled elsewhere", box.name)
        return 0
    recorded = 0
    try:
        connection = connect(box)
        if connection is None:
            release(box, token)
            return 0
        try:
            for message in connection.get_message():
                _row, created = inbound.record(
                    message.vivadesk_raw, source=f"mailbox:{box.name}", mailbox=box
                )
                recorded += int(created)
        finally:
            connection.close()
        box.last_polling = timezone.now()
        box.save(update_fields=["last_polling"])
    except Exception as exc:
        release(box, token, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    release(box, token)
    return recorded


def poll_all() -> dict[str, str]:
    """Poll every active mailbox; a broken one is logged and skipped."""
    results = {}
    for box in Mailbox.active_mailboxes.all():
        try:
            results[box.name] = f"{poll_mailbox(box)} new"
        except Exception as exc:  # noqa: BLE001 - the other mailboxes go on
            logger.exception("Polling mailbox %s failed", box.name)
            results[box.name] = f"failed: {type(exc).__name__}"
    return results
