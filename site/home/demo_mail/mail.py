"""Reading the sent-mail files and writing into the demo inbox maildir."""

from __future__ import annotations

import mailbox as stdlib_mailbox
import mimetypes
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_mailbox.models import Mailbox

from vivadesk_wagtail import conf

#: Name of the django-mailbox row the demo creates (``vivadesk_demo``).
MAILBOX_NAME = "Demo inbox"
#: Django's file backend ends every message with a line of 79 dashes.
SEPARATOR = b"-" * 79
#: Files whose names are safe to open (no path parts).
FILE_NAME_RE = re.compile(r"^[\w.-]+$")
#: How many sent-mail files (newest first) the page reads.
MAX_FILES = 200
#: The first line of a message: a header field (``Name: value``).
_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]+:")


def inbox_path() -> Path:
    """The demo inbox maildir: ``VIVADESK_DEMO_INBOX`` or ``<VAR_DIR>/inbox``."""
    configured = getattr(settings, "VIVADESK_DEMO_INBOX", None)
    return Path(configured or Path(settings.VAR_DIR) / "inbox")


def sent_mail_path() -> Path | None:
    """Where the file backend writes, or ``None`` when mail goes elsewhere."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        return None
    path = getattr(settings, "EMAIL_FILE_PATH", None)
    return Path(path) if path else None


def ensure_inbox() -> Mailbox:
    """The maildir (with ``cur``/``new``/``tmp``) and its ``Mailbox`` row, so
    the scheduled poller reads it; safe to call again."""
    path = inbox_path().resolve()
    _maildir(path)
    uri = f"maildir://{path.as_posix()}"
    box, created = Mailbox.objects.get_or_create(
        name=MAILBOX_NAME, defaults={"uri": uri, "active": True}
    )
    if not created and box.uri != uri:
        box.uri = uri
        box.save(update_fields=["uri"])
    return box


def target_inbox() -> Path:
    """The maildir to write to: the demo mailbox's, else the configured one."""
    box = Mailbox.objects.filter(name=MAILBOX_NAME).first()
    if box is not None and box.type == "maildir" and box.location:
        return Path(box.location)
    return inbox_path()


@dataclass
class SentMail:
    file: str
    index: int
    message: EmailMessage

    @property
    def key(self) -> str:
        return f"{self.file}/{self.index}"

    @property
    def date(self):
        try:
            value = parsedate_to_datetime(str(self.message["Date"]))
        except (TypeError, ValueError):
            return None
        # "-0000" (Django's default, RFC 5322: UTC, source zone unknown)
        # parses to a naive datetime.
        if value is not None and timezone.is_naive(value):
            value = value.replace(tzinfo=UTC)
        return value

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        return ", ".join(str(v) for v in self.message.get_all("To", []))

    @property
    def recipient(self) -> str:
        """The first address in ``To`` (who would reply)."""
        addresses = [a for _n, a in getaddresses(self.message.get_all("To", [])) if a]
        return addresses[0] if addresses else ""

    @property
    def reply_address(self) -> str:
        """Where a reply goes: ``Reply-To``, else the help-desk address."""
        addresses = [
            a for _n, a in getaddresses(self.message.get_all("Reply-To", [])) if a
        ]
        return addresses[0] if addresses else conf.helpdesk_email()

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        if part is None:
            return ""
        try:
            return part.get_content()
        except (LookupError, ValueError):
            return part.get_payload(decode=True).decode("utf-8", "replace")


def split_file(data: bytes) -> list[bytes]:
    """The messages of one file of Django's file backend.

    Each message is written as its bytes, a newline, a line of 79 dashes and
    a newline. A dash line inside a message body is not a boundary: the text
    after a dash line starts a new message only if it opens with a header
    block (header fields up to the first empty line, ``Content-Type`` or
    ``MIME-Version`` among them); otherwise it is glued back on.
    """
    data = data.replace(b"\r\n", b"\n")
    chunks: list[bytes] = []
    current: list[bytes] = []
    for line in data.split(b"\n"):
        if line == SEPARATOR:
            chunks.append(b"\n".join(current))
            current = []
            continue
        current.append(line)
    chunks.append(b"\n".join(current))
    messages: list[bytes] = []
    for chunk in chunks:
        if not chunk.strip():
            continue
        if messages and not _starts_with_headers(chunk):
            messages[-1] += b"\n" + SEPARATOR + b"\n" + chunk
        else:
            messages.append(chunk)
    return [m.strip(b"\n") + b"\n" for m in messages]


def _starts_with_headers(chunk: bytes) -> bool:
    head = chunk.lstrip(b"\n").split(b"\n\n", 1)[0].split(b"\n")
    if not head or not _HEADER_LINE_RE.match(head[0]):
        return False
    if not all(_HEADER_LINE_RE.match(line) or line[:1] in b" \t" for line in head):
        return False
    names = {line.split(b":", 1)[0].lower() for line in head if line[:1] not in b" \t"}
    return bool(names & {b"content-type", b"mime-version"})


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


def read_file(directory: Path, name: str) -> list[SentMail]:
    data = (directory / name).read_bytes()
    return [
        SentMail(name, index, _parse(raw)) for index, raw in enumerate(split_file(data))
    ]


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    files = [
        p for p in directory.iterdir() if p.is_file() and FILE_NAME_RE.match(p.name)
    ]
    files.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return files[:MAX_FILES]


def sent_mails(directory: Path) -> list[SentMail]:
    """Every mail in the newest files, newest first."""
    mails = []
    for path in _files(directory):
        mails.extend(read_file(directory, path.name))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    # Stable sort: mails of one file (same second) keep their reverse order.
    mails.reverse()
    mails.sort(key=lambda m: m.date or epoch, reverse=True)
    return mails


def find(directory: Path, key: str) -> SentMail | None:
    """The mail ``<file>/<index>`` of the listing, or ``None``."""
    name, _sep, index = key.rpartition("/")
    if not FILE_NAME_RE.match(name) or not index.isdigit():
        return None
    if not (directory / name).is_file():
        return None
    mails = read_file(directory, name)
    position = int(index)
    return mails[position] if position < len(mails) else None


def staff_addresses() -> set[str]:
    """The help desk's own addresses and those of staff users (lower case)."""
    addresses = {conf.helpdesk_email().lower(), conf.staff_notify_email().lower()}
    staff = get_user_model().objects.filter(is_staff=True).exclude(email="")
    addresses.update(e.lower() for e in staff.values_list("email", flat=True))
    return addresses


def is_to_customer(mail: SentMail, staff: set[str] | None = None) -> bool:
    """Mail to a customer (not to the help desk itself or to staff)."""
    address = mail.recipient.lower()
    if staff is None:
        staff = staff_addresses()
    return bool(address) and address not in staff


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def _attach(message: EmailMessage, upload) -> None:
    if upload is None:
        return
    ctype = upload.content_type or mimetypes.guess_type(upload.name)[0] or ""
    if "/" not in ctype:
        ctype = "application/octet-stream"
    maintype, subtype = ctype.split("/", 1)
    message.add_attachment(
        upload.read(), maintype=maintype, subtype=subtype, filename=upload.name
    )


def _quote(original: SentMail) -> str:
    sent = original.date or timezone.now()
    author = str(original.message.get("From", ""))
    lines = original.text.rstrip("\n").split("\n")
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"On {format_datetime(sent)}, {author} wrote:\n{quoted}\n"


def build_reply(original: SentMail, text: str, upload=None) -> EmailMessage:
    """The reply a customer's mail client would send to ``original``."""
    sender = original.recipient
    message = EmailMessage()
    message["From"] = sender
    message["To"] = original.reply_address
    subject = original.subject
    if not re.match(r"^\s*re\s*:", subject, re.IGNORECASE):
        subject = f"Re: {subject}"
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    parent = str(original.message.get("Message-ID", "")).strip()
    if parent:
        message["In-Reply-To"] = parent
        earlier = " ".join(str(original.message.get("References", "")).split())
        message["References"] = f"{earlier} {parent}".strip()
    body = text.replace("\r\n", "\n").rstrip("\n") + "\n"
    if original.text.strip():
        body += "\n" + _quote(original)
    message.set_content(body)
    _attach(message, upload)
    return message


def build_new(sender: str, subject: str, text: str, upload=None) -> EmailMessage:
    """A new mail from ``sender`` to the help desk."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = conf.helpdesk_email()
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(text.replace("\r\n", "\n").rstrip("\n") + "\n")
    _attach(message, upload)
    return message


def deliver(message: EmailMessage, inbox: Path | None = None) -> Path:
    """Place ``message`` in ``inbox/new/`` (through ``tmp/``, as a delivery
    agent does); returns the file written."""
    path = Path(inbox or target_inbox())
    key = _maildir(path).add(message.as_bytes())
    return path / "new" / key


def _maildir(path: Path) -> stdlib_mailbox.Maildir:
    """The maildir at ``path``, its folders created where missing."""
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return stdlib_mailbox.Maildir(str(path), factory=None, create=False)
