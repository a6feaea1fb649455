"""Polling django-mailbox ``Mailbox`` rows, store-first and one at a time:
django-mailbox's transports, driven here instead of ``Mailbox.get_new_mail()``
(:func:`poll_mailbox`), one poller per mailbox under a lease (:func:`acquire`).
"""

from __future__ import annotations

import hashlib
import logging
import mailbox as stdlib_mailbox
import os
import secrets
import socket
import time
from contextlib import contextmanager
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_mailbox.models import Mailbox
from django_mailbox.transports.imap import ImapTransport

from .. import conf
from ..models import MailboxPoll
from . import inbound
from .imap import ImapMailbox

logger = logging.getLogger(__name__)

#: Seconds a network mailbox may take to answer before the poll fails.
TIMEOUT = 60
#: Consecutive failed polls after which each failure is logged as an error.
ALERT_AFTER = 3
#: Characters of the host name kept in ``MailboxPoll.locked_by`` (64 in all,
#: with a pid of up to 7 digits and a 16-digit token); a longer name is cut
#: and ends in ``~`` and 8 digits of its hash.
HOST_CHARS = 32


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
            yield raw
            box.discard(key)

    def close(self) -> None:
        pass


def _raw(contents: bytes) -> bytes:
    return contents


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
    """The transport of a mailbox, whose ``get_message()`` yields the raw
    bytes of each mail and removes it when resumed (``send(created)``)."""
    if box.type == "maildir":
        return SafeMaildirTransport(box.location)
    with _socket_timeout(TIMEOUT):
        connection = box.get_connection()
    if connection is None:
        return None
    if isinstance(connection, ImapTransport):
        return ImapMailbox(connection)
    # The transports parse bytes with ``get_email_from_bytes``; keep the bytes
    # instead, so what we store is exactly what the server had.
    connection.get_email_from_bytes = _raw
    return connection


def lease_duration() -> timedelta:
    return conf.get("MAILBOX_POLL_LEASE")


def _host() -> str:
    name = socket.gethostname().replace(":", "_")
    if len(name) <= HOST_CHARS:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: HOST_CHARS - 9]}~{digest}"


def _new_holder() -> str:
    return f"{_host()}:{os.getpid()}:{secrets.token_hex(8)}"


def _process_gone(pid: int) -> bool:
    """Whether no process (or only a zombie) has this id on this host."""
    if os.name != "posix" or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[:1] == [b"Z"]
    except OSError:
        return False


def _holder_gone(holder: str) -> bool:
    """Whether ``holder`` ran on this host in a process that is gone."""
    host, _sep, rest = holder.rpartition(":")[0].rpartition(":")
    if host != _host() or not rest.isdigit():
        return False
    return _process_gone(int(rest))


def acquire(box: Mailbox) -> str | None:
    """Take the mailbox's lease; ``None`` if another poller holds it.

    One poller at a time: the lease row (:class:`MailboxPoll`) is taken by a
    conditional UPDATE for ``MAILBOX_POLL_LEASE`` (default a minute) and
    renewed by the same kind of UPDATE, on the holder's token, after each
    recorded mail once a third of the lease has passed (:class:`_Lease`). A
    poller whose renewal finds the lease taken by another stops after the
    mail it has just recorded (that mail stays on the server for the new
    holder, which finds it recorded already). The holder is written as
    ``host:pid:token``; a poller on the same host takes over at once a lease
    whose process is gone (killed worker), pollers elsewhere wait until the
    lease runs out. With the schedule polling every minute, a mailbox is read
    again at most two minutes after its poller died, and by the next poll on
    the same host. A host name stands for one process-id space: containers
    that share one must not share their name.
    """
    MailboxPoll.objects.get_or_create(mailbox=box)
    holder = _new_holder()
    now = timezone.now()
    rows = MailboxPoll.objects.filter(mailbox=box)
    lease = {"locked_until": now + lease_duration(), "locked_by": holder}
    if rows.filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now)).update(
        **lease
    ):
        return holder
    current = rows.values_list("locked_by", flat=True).first()
    if current and _holder_gone(current):
        if rows.filter(locked_by=current).update(**lease):
            logger.warning(
                "Mailbox %s: took over the lease of %s, whose process is gone",
                box.name,
                current,
            )
            return holder
    return None


def renew(box: Mailbox, token: str) -> bool:
    """Extend the lease by ``MAILBOX_POLL_LEASE``; ``False`` if it is no
    longer ours."""
    return bool(
        MailboxPoll.objects.filter(mailbox=box, locked_by=token).update(
            locked_until=timezone.now() + lease_duration()
        )
    )


class _Lease:
    """A held lease, renewed once a third of it has passed."""

    def __init__(self, box: Mailbox, token: str):
        self.box, self.token = box, token
        self.renewed = time.monotonic()

    def keep(self) -> bool:
        """Renew when due; ``False`` if another poller took the lease."""
        if time.monotonic() - self.renewed < lease_duration().total_seconds() / 3:
            return True
        if not renew(self.box, self.token):
            return False
        self.renewed = time.monotonic()
        return True


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


def _record_all(box: Mailbox, connection, lease: _Lease) -> int:
    """Record each mail the connection yields, telling it whether the mail
    was new; stop when the lease was taken over. Returns how many were new."""
    messages = connection.get_message()
    recorded, created = 0, None
    try:
        while True:
            try:
                raw = messages.send(created)
            except StopIteration:
                return recorded
            _row, created = inbound.record(
                raw, source=f"mailbox:{box.name}", mailbox=box
            )
            recorded += int(created)
            if not lease.keep():
                logger.warning(
                    "Mailbox %s: the lease was taken over, stopping this poll",
                    box.name,
                )
                return recorded
    finally:
        messages.close()


def poll_mailbox(box: Mailbox) -> int:
    r"""Fetch and record every mail of one mailbox; returns how many were new.
    Raises on connection or storage errors (after releasing the lease).

    The transports are django-mailbox's (IMAP with ``?archive=``, POP3, Gmail,
    Office 365), driven here instead of ``Mailbox.get_new_mail()``:

    * the raw bytes each transport fetched are kept and recorded as an
      :class:`InboundMail` *before* the mail is removed from the server (the
      transports remove a mail only after the generator resumes); if
      recording fails the loop stops and the mail stays on the server;
    * IMAP folders (also Gmail's) are read by :class:`.imap.ImapMailbox`,
      which fetches only mail not flagged ``\Deleted``, with ``BODY.PEEK[]``,
      and moves each recorded mail to the archive folder on its own (``UID
      MOVE``, or copy, flag and ``UID EXPUNGE``): a poll killed half-way
      leaves each mail either in the folder or once in the archive folder,
      never copied twice. The poller tells it whether a mail was new, so one
      recorded before is first looked up in the archive folder;
    * django-mailbox's own ``Message`` rows are not written: their
      255-character ``from_header`` is a poison message on PostgreSQL (its
      #218), they store a re-serialised copy, not the bytes, and attachments
      in the public default storage;
    * maildirs are read with a transport that removes a mail only after it
      was recorded (django-mailbox removes it before its handler runs);
    * one mailbox failing never stops the others (:func:`poll_all`), and its
      consecutive failures are counted for monitoring.
    """
    token = acquire(box)
    if token is None:
        logger.info("Mailbox %s is being polled elsewhere", box.name)
        return 0
    try:
        connection = connect(box)
        if connection is None:
            release(box, token)
            return 0
        try:
            recorded = _record_all(box, connection, _Lease(box, token))
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
