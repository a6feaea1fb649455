"""The mailbox poller under faults, against a private Dovecot IMAP server:
a poll killed half-way archives each mail once, a dead poller's lease is
taken over (at once on its own host), a long poll keeps its lease and a
poller whose lease was taken over stops."""

from __future__ import annotations

import imaplib
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone
from django_mailbox.models import Mailbox

from tests import emails, factories
from vivadesk_wagtail.mail import imap, inbound, polling
from vivadesk_wagtail.models import InboundMail, MailboxPoll

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

ARCHIVE = "Processed"
SUBJECTS = [f"Mail {n}" for n in range(5)]
#: How the archive is filled: MOVE as Dovecot offers it, or the copy, flag
#: and expunge of servers without MOVE (with and without UIDPLUS).
MODES = {
    "move": frozenset(),
    "copy": frozenset({"MOVE"}),
    "copy-without-uidplus": frozenset({"MOVE", "UIDPLUS"}),
}


class Killed(BaseException):
    """The worker died: no handler, no ``finally`` of ours says goodbye."""


# --- the server, read and written directly over IMAP -----------------------


@contextmanager
def session(server, folder: str = "INBOX"):
    client = imaplib.IMAP4(server.host, server.port)
    client.login(server.user, server.password)
    client.select(folder)
    try:
        yield client
    finally:
        client.logout()


def append(server, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
    with session(server) as client:
        if folder != "INBOX":
            client.create(folder)
        client.append(folder, flags, imaplib.Time2Internaldate(time.time()), raw)


def subjects(server, folder: str = "INBOX") -> list[str]:
    """Subjects of every mail in a folder, those flagged \\Deleted too."""
    with session(server, folder) as client:
        _typ, data = client.uid("SEARCH", "ALL")
        uids = data[0].decode().split()
        if not uids:
            return []
        _typ, data = client.uid(
            "FETCH", ",".join(uids), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"
        )
    found = [
        re.search(rb"Subject: (.*?)\r\n", i[1]) for i in data if isinstance(i, tuple)
    ]
    return sorted(m.group(1).decode() for m in found)


def fetch(server, subject: str) -> tuple[str, bytes]:
    """UID and bytes of the INBOX mail with this subject, as a poll gets them."""
    with session(server) as client:
        _typ, data = client.uid("SEARCH", "SUBJECT", f'"{subject}"')
        (uid,) = data[0].decode().split()
        _typ, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    return uid, data[0][1]


def five_mails(server, **kwargs) -> None:
    factories.customer()
    for subject in SUBJECTS:
        append(server, emails.build(subject=subject, body=f"Text {subject}", **kwargs))


def archive_box(server) -> Mailbox:
    return Mailbox.objects.create(name="helpdesk", uri=server.uri(ARCHIVE))


@pytest.fixture(params=list(MODES))
def mode(request, monkeypatch, dovecot):
    with session(dovecot) as client:
        _typ, data = client.capability()
    # Dovecot offers both, so "move" takes the MOVE path.
    assert {"MOVE", "UIDPLUS"} <= set(data[0].decode().upper().split())
    monkeypatch.setattr(imap.ImapMailbox, "hidden_capabilities", MODES[request.param])
    return request.param


def lease_runs_out() -> None:
    MailboxPoll.objects.update(locked_until=timezone.now() - timedelta(seconds=1))


def kill_after_recording(monkeypatch, count: int) -> None:
    """The worker dies right after the ``count``-th mail was recorded: no
    more IMAP commands, no CLOSE, no LOGOUT, the lease row left as it is."""
    real_record, real_connect = inbound.record, polling.connect
    recorded = []

    def record(raw, **kwargs):
        result = real_record(raw, **kwargs)
        recorded.append(raw)
        if len(recorded) == count:
            raise Killed
        return result

    def connect(box):
        connection = real_connect(box)
        connection.close = connection.server.shutdown  # the socket just drops
        return connection

    monkeypatch.setattr(inbound, "record", record)
    monkeypatch.setattr(polling, "connect", connect)


def use_lease(settings, lease: timedelta) -> None:
    settings.VIVADESK = {**settings.VIVADESK, "MAILBOX_POLL_LEASE": lease}


def dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        check=True,
        text=True,
    )
    return int(child.stdout)


# --- (a) a poll killed half-way --------------------------------------------


def test_poll_killed_after_a_recorded_mail_archives_each_mail_once(
    dovecot,
    monkeypatch,
    mode,
):
    five_mails(dovecot)
    box = archive_box(dovecot)
    kill_after_recording(monkeypatch, 3)
    with pytest.raises(Killed):
        polling.poll_mailbox(box)
    assert InboundMail.objects.count() == 3
    assert polling.poll_mailbox(box) == 0  # the dead poller's lease still holds
    monkeypatch.undo()
    monkeypatch.setattr(imap.ImapMailbox, "hidden_capabilities", MODES[mode])
    lease_runs_out()

    assert polling.poll_mailbox(box) == 2
    assert subjects(dovecot, ARCHIVE) == SUBJECTS  # each mail exactly once
    assert subjects(dovecot) == []
    assert InboundMail.objects.count() == 5
    # A third poll finds nothing and copies nothing.
    assert polling.poll_mailbox(box) == 0
    assert subjects(dovecot, ARCHIVE) == SUBJECTS


def test_mails_a_dead_poll_left_half_archived_are_archived_once(
    dovecot,
    mode,
):
    """The states a poll killed between its IMAP commands leaves, set up
    directly on the server: recorded, copied and flagged \\Deleted but not
    expunged (Mail 0); recorded and copied, not flagged (Mail 1, which has no
    Message-ID); recorded only (Mail 2); untouched (Mail 3, Mail 4)."""
    factories.customer()
    for subject in SUBJECTS:
        message_id = None if subject == "Mail 1" else "auto"
        append(dovecot, emails.build(subject=subject, message_id=message_id))
    box = archive_box(dovecot)
    with session(dovecot) as client:
        client.create(ARCHIVE)
        for subject in SUBJECTS[:3]:
            uid, raw = fetch(dovecot, subject)
            inbound.record(raw, source=f"mailbox:{box.name}", mailbox=box)
            if subject != "Mail 2":
                client.uid("COPY", uid, ARCHIVE)
            if subject == "Mail 0":
                client.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
    assert subjects(dovecot, ARCHIVE) == ["Mail 0", "Mail 1"]

    assert polling.poll_mailbox(box) == 2
    assert subjects(dovecot, ARCHIVE) == SUBJECTS
    assert subjects(dovecot) == []
    assert InboundMail.objects.count() == 5


def test_without_archive_a_killed_poll_fetches_each_mail_once_more_at_most(
    dovecot,
    monkeypatch,
):
    five_mails(dovecot)
    box = Mailbox.objects.create(name="helpdesk", uri=dovecot.uri())
    kill_after_recording(monkeypatch, 2)
    with pytest.raises(Killed):
        polling.poll_mailbox(box)
    assert subjects(dovecot) == SUBJECTS[1:]  # the first one was removed
    monkeypatch.undo()
    lease_runs_out()
    assert polling.poll_mailbox(box) == 3
    assert subjects(dovecot) == []
    assert InboundMail.objects.count() == 5


# --- (b) the lease ---------------------------------------------------------


def hold_lease(box: Mailbox, holder: str, until: timedelta) -> None:
    MailboxPoll.objects.update_or_create(
        mailbox=box,
        defaults={"locked_by": holder, "locked_until": timezone.now() + until},
    )


def test_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(
    dovecot,
):
    five_mails(dovecot)
    box = Mailbox.objects.create(name="helpdesk", uri=dovecot.uri())
    worker = subprocess.Popen(["sleep", "60"])
    try:
        hold_lease(
            box, f"{polling._host()}:{worker.pid}:{'0' * 16}", timedelta(hours=1)
        )
        assert polling.poll_mailbox(box) == 0  # alive: it is waited for
        worker.send_signal(signal.SIGKILL)
        _wait_for_zombie(worker.pid)
        # Killed but not yet reaped by its parent: a zombie is gone too.
        assert polling.poll_mailbox(box) == 5
    finally:
        worker.kill()
        worker.wait()
    poll = MailboxPoll.objects.get(mailbox=box)
    assert poll.locked_by == "" and poll.failures == 0
    hold_lease(box, f"{polling._host()}:{dead_pid()}:{'0' * 16}", timedelta(hours=1))
    append(dovecot, emails.build(subject="Mail 5"))
    assert polling.poll_mailbox(box) == 1


def _wait_for_zombie(pid: int) -> None:
    for _ in range(100):
        with open(f"/proc/{pid}/stat", "rb") as handle:
            if handle.read().rpartition(b")")[2].split()[0] == b"Z":
                return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not die")


def test_lease_of_another_host_waits_until_it_runs_out(dovecot):
    append(dovecot, emails.build(sender="fremd@example.org"))
    box = Mailbox.objects.create(name="helpdesk", uri=dovecot.uri())
    before = timezone.now()
    token = polling.acquire(box)
    left = MailboxPoll.objects.get(mailbox=box).locked_until - before
    assert timedelta(seconds=55) < left <= timedelta(seconds=61)  # the default
    polling.release(box, token)
    # Its pid means nothing here, even if no process here has it.
    hold_lease(box, f"mx2.viva.de:{dead_pid()}:{'0' * 16}", timedelta(seconds=59))
    assert polling.poll_mailbox(box) == 0
    assert subjects(dovecot) == ["Frage"]
    lease_runs_out()
    assert polling.poll_mailbox(box) == 1
    assert subjects(dovecot) == []


def test_holder_fits_its_column_whatever_the_host_name(
    dovecot,
    monkeypatch,
):
    box = Mailbox.objects.create(name="helpdesk", uri=dovecot.uri())
    monkeypatch.setattr(polling.socket, "gethostname", lambda: "w:" + "x" * 250)
    token = polling.acquire(box)
    assert len(token) <= MailboxPoll._meta.get_field("locked_by").max_length
    assert MailboxPoll.objects.get(mailbox=box).locked_by == token
    host, pid, _random = token.split(":")
    assert host == polling._host() and int(pid) > 0
    # A dead process of this long-named host is recognised too.
    hold_lease(box, f"{host}:{dead_pid()}:{'0' * 16}", timedelta(hours=1))
    assert polling.acquire(box)


def test_a_long_poll_renews_its_lease(dovecot, monkeypatch, settings):
    use_lease(settings, timedelta(seconds=1))
    five_mails(dovecot)
    box = archive_box(dovecot)
    real_record = inbound.record
    seen = []

    def slow_record(raw, **kwargs):
        time.sleep(0.4)  # five of these outlast the lease
        poll = MailboxPoll.objects.get(mailbox=box)
        seen.append((poll.locked_until, timezone.now()))
        assert polling.acquire(box) is None  # nobody else gets in meanwhile
        return real_record(raw, **kwargs)

    monkeypatch.setattr(inbound, "record", slow_record)
    assert polling.poll_mailbox(box) == 5
    assert all(until > now for until, now in seen)
    assert len({until for until, _now in seen}) >= 3
    assert subjects(dovecot, ARCHIVE) == SUBJECTS


def test_a_poller_whose_lease_was_taken_over_stops(
    dovecot,
    monkeypatch,
    settings,
):
    use_lease(settings, timedelta(seconds=1))
    five_mails(dovecot)
    box = archive_box(dovecot)
    real_record = inbound.record
    calls = []
    other = f"mx2.viva.de:4711:{'f' * 16}"

    def record(raw, **kwargs):
        calls.append(raw)
        if len(calls) == 2:  # meanwhile another poller took the lease
            hold_lease(box, other, timedelta(minutes=1))
        time.sleep(0.4)
        return real_record(raw, **kwargs)

    monkeypatch.setattr(inbound, "record", record)
    assert polling.poll_mailbox(box) == 2
    assert len(calls) == 2
    # The second mail is recorded and left for the new holder to archive.
    assert subjects(dovecot, ARCHIVE) == ["Mail 0"]
    assert subjects(dovecot) == SUBJECTS[1:]
    assert MailboxPoll.objects.get(mailbox=box).locked_by == other

    monkeypatch.undo()
    lease_runs_out()
    assert polling.poll_mailbox(box) == 3
    assert subjects(dovecot, ARCHIVE) == SUBJECTS
    assert subjects(dovecot) == []
    assert InboundMail.objects.count() == 5
