"""Reading an IMAP folder so that each mail reaches the archive folder once
(:class:`ImapMailbox`, in place of django-mailbox's ``get_message``).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable
from email.parser import BytesHeaderParser
from email.policy import compat32

from django_mailbox.transports.imap import ImapTransport

#: An IMAP atom: a folder name that needs no quotes.
ATOM_RE = re.compile(r'[^\s()"{\\%*\]\x00-\x1f\x7f]+')
#: A Message-ID that can be searched for as a quoted string.
SEARCHABLE_RE = re.compile(r"[\x20-\x7e]{1,998}")
UID_RE = re.compile(rb"\bUID (\d+)")


class ImapError(Exception):
    """The server refused a command the poll cannot go on without."""


def _ok(response, command: str):
    typ, data = response
    if typ != "OK":
        raise ImapError(f"IMAP {command} failed: {typ} {data!r}")
    return data


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _folder(name: str) -> str:
    """A folder name as a command argument (imaplib does not quote it)."""
    if ATOM_RE.fullmatch(name) or (name.startswith('"') and name.endswith('"')):
        return name
    return _quoted(name)


def _message_id(raw: bytes) -> str:
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    value = str(headers.get("Message-ID", "")).strip()
    return value if SEARCHABLE_RE.fullmatch(value) else ""


class ImapMailbox:
    r"""The mails of a connected ``ImapTransport``'s folder, each removed once.

    Drives the imaplib connection of a connected django-mailbox
    ``ImapTransport`` (or a subclass, such as its Gmail transport) itself,
    instead of the transport's ``get_message``, and honours the transport's
    ``folder``, ``archive`` and ``max_message_size`` as it does:

    1. Mails a poll flagged ``\Deleted`` but did not expunge (it died in
       between) are expunged first. They were recorded: the poller flags a
       mail only after it was recorded.
    2. It searches the mails *not* flagged ``\Deleted`` (and no larger than
       ``max_message_size``), fetches each with ``BODY.PEEK[]`` (its flags
       stay as they were) and yields the bytes.
    3. Only when the caller resumes the generator, having recorded the mail,
       it is removed from the folder, that mail alone and at once: with an
       archive folder by ``UID MOVE`` where the server offers MOVE (RFC 6851;
       one step, copy and removal together), else by ``UID COPY``, ``UID
       STORE +FLAGS (\Deleted)`` and ``UID EXPUNGE`` of that UID (UIDPLUS; a
       plain ``EXPUNGE`` without it); without an archive folder by the flag
       and the expunge. A command the server refuses fails the poll; the mail
       stays.
    4. The caller says whether the mail was new: ``generator.send(created)``.
       A mail recorded before (``created`` not ``True``) may be one that a
       poll which died after copying it left behind, so the archive folder is
       searched for a byte-identical copy (same size and Message-ID) first; if
       it has one, the mail is only removed from the folder, not copied or
       moved again.

    A poll killed at any point therefore leaves each mail either in the
    folder (fetched again by the next poll and a duplicate for the dedupe
    key) or in the archive folder, once. What is left:

    * a mail copied to the archive folder whose ``InboundMail`` row was
      deleted before the next poll fetched it again is new again, and copied
      again;
    * a mail a person flagged ``\Deleted`` in a mail client is never fetched,
      and expunged by the next poll (step 1), as that client's expunge would;
    * without UIDPLUS the expunge is the folder's, which also removes mail
      other clients flagged ``\Deleted`` (as django-mailbox does after each
      batch);
    * two pollers reading the folder at the same time (one outlived its
      lease, see ``polling``) may both copy a mail when the server has no
      MOVE.
    """

    #: Capabilities not used although the server announces them (for a
    #: server whose MOVE or UIDPLUS is known to be broken).
    hidden_capabilities: frozenset[str] = frozenset()

    def __init__(self, transport: ImapTransport):
        self.transport = transport
        self.server = transport.server
        self.archive = transport.archive
        self.folder = transport.folder or "INBOX"
        self.max_message_size = transport.max_message_size
        self.capabilities: frozenset[str] = frozenset()

    def close(self) -> None:
        self.transport.close()

    def get_message(self) -> Generator[bytes, bool | None, None]:
        """Yield each mail's bytes; remove it once resumed (see the class)."""
        self.capabilities = self._capabilities()
        self._expunge(self._search("DELETED"))
        uids = self._search(*self._criteria())
        if uids and self.archive:
            self._ensure_archive()
        for uid in uids:
            raw = self._fetch(uid)
            if raw is None:
                continue  # removed by someone else since the search
            created = yield raw
            self._remove(uid, raw, archived=created is not True and self._archived(raw))

    def _capabilities(self) -> frozenset[str]:
        # Asked again: the list imaplib read before the login is incomplete.
        data = _ok(self.server.capability(), "CAPABILITY")
        offered = {word.upper() for word in data[0].decode().split()}
        return frozenset(offered - self.hidden_capabilities)

    def _criteria(self) -> list[str]:
        criteria = ["UNDELETED"]
        if self.max_message_size:
            criteria += ["SMALLER", str(int(self.max_message_size) + 1)]
        return criteria

    def _search(self, *criteria: str) -> list[str]:
        data = _ok(self.server.uid("SEARCH", *criteria), "UID SEARCH")
        return (data[0] or b"").decode().split()

    def _fetch(self, uid: str) -> bytes | None:
        data = _ok(self.server.uid("FETCH", uid, "(BODY.PEEK[])"), "UID FETCH")
        for item in data:
            if isinstance(item, tuple) and b"BODY[]" in item[0]:
                found = UID_RE.search(item[0])
                if found and found.group(1).decode() == uid:
                    return item[1]
        return None

    def _ensure_archive(self) -> None:
        _typ, folders = self.server.list(pattern=_folder(self.archive))
        if folders[0] is None:
            _ok(self.server.create(_folder(self.archive)), "CREATE")

    def _remove(self, uid: str, raw: bytes, *, archived: bool) -> None:
        if self.archive and not archived:
            if "MOVE" in self.capabilities:
                _ok(self.server.uid("MOVE", uid, _folder(self.archive)), "UID MOVE")
                return
            _ok(self.server.uid("COPY", uid, _folder(self.archive)), "UID COPY")
        _ok(self.server.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "UID STORE")
        self._expunge([uid])

    def _expunge(self, uids: Iterable[str]) -> None:
        uids = list(uids)
        if not uids:
            return
        if "UIDPLUS" in self.capabilities:
            _ok(self.server.uid("EXPUNGE", ",".join(uids)), "UID EXPUNGE")
        else:
            _ok(self.server.expunge(), "EXPUNGE")

    def _archived(self, raw: bytes) -> bool:
        """Whether the archive folder holds these very bytes already."""
        if not self.archive:
            return False
        criteria = ["LARGER", str(max(len(raw) - 1, 0)), "SMALLER", str(len(raw) + 1)]
        message_id = _message_id(raw)
        if message_id:
            criteria += ["HEADER", "Message-ID", _quoted(message_id)]
        _ok(self.server.select(_folder(self.archive), readonly=True), "EXAMINE")
        try:
            return any(self._fetch(uid) == raw for uid in self._search(*criteria))
        finally:
            _ok(self.server.select(_folder(self.folder)), "SELECT")
