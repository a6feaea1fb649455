"""A customer's data export (GDPR Art. 15/20): the ZIP archive that
``privacy_tasks.build_export`` writes into the private storage
(:func:`write_archive`). It holds only what the portal shows the customer
of their own tickets (never internal notes, staff HTML or staff names), the
files they and we attached, and the mails they sent.

Archive members:

- ``data.json``: the machine-readable copy (UTF-8), below.
- ``index.html``: the same for people, in the customer's language, one
  self-contained page (inline CSS, no scripts) linking to the files.
- ``attachments/<reference>/<attachment id>-<file name>``: the files of the
  public messages.
- ``mails/<reference>/<mail id>.eml``: the customer's mails as received.

``data.json`` (``format_version`` 1; dates ISO 8601 in UTC, or ``null``):
``generated_at``, ``language``; ``profile``: ``email``, ``full_name``,
``preferred_language``, ``account_created``, ``confirmed_at``,
``mail_undeliverable``; ``tickets``: a list of ``reference``, ``subject``,
``status`` (``code``, ``label``), ``channel``, ``category``,
``contact_page``, ``follows``, ``created_at``, ``updated_at``, ``done_at``,
``closed_at``, ``form_data`` (``label``, ``value``), ``privacy_notice``
(``text``, ``first_shown``; or ``null``), ``messages`` (``kind``,
``created_at``, ``author``, ``body``, ``sender_verified``, ``event``
(``event``, ``old``, ``new``, ``text``; or ``null``), ``attachments``
(``name``, ``size``, ``content_type``, ``sha256``, ``path``)),
``status_history`` (``at``, ``old``, ``new``), ``mails`` (``received_at``,
``subject``, ``size``, ``path``) and ``rating`` (``rating``, ``label``,
``comment``, ``rated_at``, ``changed_at``; or ``null``); ``data_requests``:
``kind``, ``state``, ``created_at``, ``confirmed_at``, ``completed_at``,
``expires_at``, ``due_at``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from django.core.files import File
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ..adapter import get_adapter
from ..models import (
    Channel,
    DataRequest,
    DataRequestKind,
    DataRequestState,
    InboundMail,
    MessageKind,
    Rating,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
    ticket_answers,
)
from ..services import customers
from ..storage import generated_name, private_storage

FORMAT_VERSION = 1
#: Bytes read from the storage at a time.
CHUNK_SIZE = 256 * 1024
#: Longest file name (without the id prefix) inside the archive.
MAX_NAME = 120
_UNSAFE = re.compile(r"[^\w.\- ()+,=@&]+")


def archive_name() -> str:
    """A new name for an archive in the private storage."""
    return generated_name("exports") + ".zip"


def write_archive(user, name: str) -> tuple[int, dict]:
    """Write the archive of ``user`` to the private storage under exactly
    ``name``; ``(size in bytes, counts)``. Built in a temporary file (the
    files streamed in chunks), then saved in one go: nothing is left in the
    storage if building fails."""
    language = customer_language(user)
    with tempfile.TemporaryFile() as handle:
        with translation.override(language):
            summary = _write_zip(handle, user, language)
        size = handle.seek(0, 2)
        handle.seek(0)
        _save(name, handle)
    return size, summary


def customer_language(user) -> str:
    """The language of the export: the customer's preference, as for their
    account mails."""
    return get_adapter().customer_language(customers.existing_profile(user))


def safe_name(name: str) -> str:
    """A file name that is one harmless path part on any system: no
    directories, control, bidi or reserved characters, not hidden."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch)[0] not in "CZ" or ch == " "
    )
    name = _UNSAFE.sub("_", name).strip(" ._")
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) <= 16 and len(name) > MAX_NAME:
        name = stem[: MAX_NAME - len(ext) - 1] + "." + ext
    return name[:MAX_NAME] or "file"


def _save(name: str, handle) -> None:
    storage = private_storage()
    try:
        saved = storage.save(name, File(handle, name))
    except Exception:
        # A half-written file under the row's name goes now (or when the
        # task runs again, which deletes the previous attempt's file).
        storage.delete(name)
        raise
    if saved != name:
        storage.delete(saved)
        raise FileExistsError(name)


# -- building -----------------------------------------------------------------


@dataclass
class _Counts:
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    mails: int = 0
    data_requests: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Build:
    """One archive being written: its ZIP file, the customer and counts."""

    zip: zipfile.ZipFile
    user: object
    address: str
    counts: _Counts = field(default_factory=_Counts)


def _write_zip(handle, user, language: str) -> dict:
    profile = customers.existing_profile(user)
    address = (profile.email if profile else "") or user.email or ""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        build = _Build(archive, user, address.lower())
        tickets = [_ticket(build, ticket) for ticket in _tickets(user)]
        requests = [_data_request(r) for r in DataRequest.objects.filter(user=user)]
        build.counts.tickets = len(tickets)
        build.counts.data_requests = len(requests)
        data = {
            "format_version": FORMAT_VERSION,
            "generated_at": _iso(timezone.now()),
            "language": language,
            "profile": _profile(user, profile),
            "tickets": tickets,
            "data_requests": requests,
        }
        archive.writestr(
            "data.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        )
        archive.writestr("index.html", _index_html(data))
    return build.counts.as_dict()


def _tickets(user):
    public = TicketMessage.objects.public().prefetch_related(
        Prefetch("attachments", queryset=TicketAttachment.objects.order_by("pk"))
    )
    return (
        Ticket.objects.filter(customer=user)
        .select_related(
            "category", "contact_page", "privacy_notice", "follows", "rating"
        )
        .prefetch_related(Prefetch("messages", queryset=public, to_attr="public"))
        .order_by("created_at", "pk")
    )


def _profile(user, profile) -> dict:
    return {
        "email": (profile.email if profile else "") or user.email,
        "full_name": user.get_full_name(),
        "preferred_language": profile.language if profile else "",
        "account_created": _iso(user.date_joined),
        "confirmed_at": _iso(profile.confirmed_at if profile else None),
        "mail_undeliverable": bool(profile and profile.mail_undeliverable),
    }


def _ticket(build: _Build, ticket: Ticket) -> dict:
    messages = [_message(build, ticket, m) for m in ticket.public]
    build.counts.messages += len(messages)
    follows = ticket.follows
    notice = ticket.privacy_notice
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": {"code": ticket.status, "label": _status_label(ticket.status)},
        "channel": ticket.channel,
        "category": ticket.category.name if ticket.category else None,
        "contact_page": ticket.contact_page.title if ticket.contact_page else None,
        "follows": (
            follows.reference
            if follows is not None and follows.customer_id == ticket.customer_id
            else None
        ),
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "done_at": _iso(ticket.done_at),
        "closed_at": _iso(ticket.closed_at),
        "form_data": ticket_answers(ticket),
        "privacy_notice": (
            {"text": notice.text, "first_shown": _iso(notice.created_at)}
            if notice is not None
            else None
        ),
        "messages": messages,
        "status_history": [
            {"at": m["created_at"], "old": m["event"]["old"], "new": m["event"]["new"]}
            for m in messages
            if m["event"] and m["event"]["event"] == "status"
        ],
        "mails": _mails(build, ticket),
        "rating": _rating(ticket),
    }


def _rating(ticket: Ticket) -> dict | None:
    """The customer's rating of the ticket (``services.satisfaction``)."""
    rating = getattr(ticket, "rating", None)
    if rating is None:
        return None
    return {
        "rating": rating.rating,
        "label": _choice_label(Rating, rating.rating),
        "comment": rating.comment,
        "rated_at": _iso(rating.created_at),
        "changed_at": _iso(rating.updated_at),
    }


def _message(build: _Build, ticket: Ticket, message: TicketMessage) -> dict:
    """One public message as the portal shows it (no ``html``; staff as the
    help desk, never by name)."""
    return {
        "kind": message.kind,
        "created_at": _iso(message.created_at),
        "author": _author(message, build.user),
        "body": message.body,
        "sender_verified": message.sender_verified,
        "event": _event(message),
        "attachments": [
            _attachment(build, ticket, a) for a in message.attachments.all()
        ],
    }


def _author(message: TicketMessage, user) -> str:
    if message.kind == MessageKind.EVENT:
        return ""
    if message.kind == MessageKind.CUSTOMER:
        return _("You") if message.author_id == user.pk else _("Customer")
    if message.kind == MessageKind.AUTO:
        return _("Automatic reply")
    return _("VIVA HelpDesk")


def _status_label(code) -> str:
    try:
        return str(TicketStatus(code).label)
    except ValueError:
        return str(code or "")


def _event(message: TicketMessage) -> dict | None:
    if message.kind != MessageKind.EVENT:
        return None
    event = message.event if isinstance(message.event, dict) else {}
    code, old, new = event.get("event"), event.get("old"), event.get("new")
    if code == "status":
        text = _("Status changed from “%(old)s” to “%(new)s”.") % {
            "old": _status_label(old),
            "new": _status_label(new),
        }
    else:
        text = _("The request was updated.")
    return {"event": code, "old": old, "new": new, "text": text}


def _attachment(build: _Build, ticket: Ticket, attachment: TicketAttachment) -> dict:
    folder = safe_name(ticket.reference)
    path = f"attachments/{folder}/{attachment.pk}-{safe_name(attachment.original_name)}"
    try:
        source = attachment.file.open("rb")
    except FileNotFoundError:
        path = None
        size, digest = attachment.size, attachment.sha256
    else:
        with source:
            size, digest = _copy(source, build.zip, path)
        build.counts.attachments += 1
    return {
        "name": attachment.original_name,
        "size": size,
        "content_type": attachment.content_type,
        "sha256": digest,
        "path": path,
    }


def _mails(build: _Build, ticket: Ticket) -> list[dict]:
    """The mails the customer sent about ``ticket`` whose raw bytes are kept
    (never a mail of another sender)."""
    rows = (
        InboundMail.objects.filter(ticket=ticket)
        .exclude(raw="")
        .order_by("received_at", "pk")
    )
    mails = []
    for row in rows:
        if not build.address or row.sender.lower() != build.address:
            continue
        path = f"mails/{safe_name(ticket.reference)}/{row.pk}.eml"
        try:
            source = row.raw.open("rb")
        except FileNotFoundError:
            continue
        with source:
            size, _digest = _copy(source, build.zip, path)
        build.counts.mails += 1
        mails.append(
            {
                "received_at": _iso(row.received_at),
                "subject": row.subject,
                "size": size,
                "path": path,
            }
        )
    return mails


def _copy(source, archive: zipfile.ZipFile, path: str) -> tuple[int, str]:
    """Stream ``source`` into the archive member ``path``; its size and
    SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with archive.open(path, "w", force_zip64=True) as target:
        for chunk in source.chunks(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
            target.write(chunk)
    return size, digest.hexdigest()


def _data_request(request: DataRequest) -> dict:
    return {
        "kind": request.kind,
        "state": request.state,
        "created_at": _iso(request.created_at),
        "confirmed_at": _iso(request.confirmed_at),
        "completed_at": _iso(request.completed_at),
        "expires_at": _iso(request.expires_at),
        "due_at": _iso(request.due_at),
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat()


# -- the page for people ------------------------------------------------------


def _index_html(data: dict) -> str:
    """``index.html`` from the data of ``data.json``, in the active language."""
    profile = data["profile"]
    return render_to_string(
        "vivadesk_wagtail/privacy/export_index.html",
        {
            "data": data,
            "profile": profile,
            "language_name": _language_name(profile["preferred_language"]),
            "account_created": _local(profile["account_created"]),
            "confirmed": _local(profile["confirmed_at"]),
            "generated_at": _local(data["generated_at"]),
            "tickets": [_ticket_view(t) for t in data["tickets"]],
            "data_requests": [_request_view(r) for r in data["data_requests"]],
        },
    )


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    value = timezone.localtime(datetime.fromisoformat(iso))
    return date_format(value, "SHORT_DATETIME_FORMAT")


def _href(path: str | None) -> str:
    return quote(path) if path else ""


def _ticket_view(ticket: dict) -> dict:
    messages = []
    for message in ticket["messages"]:
        files = [{**a, "href": _href(a["path"])} for a in message["attachments"]]
        messages.append(
            {**message, "when": _local(message["created_at"]), "files": files}
        )
    mails = [
        {**m, "when": _local(m["received_at"]), "href": _href(m["path"])}
        for m in ticket["mails"]
    ]
    dates = {
        key: _local(ticket[key])
        for key in ("created_at", "updated_at", "done_at", "closed_at")
    }
    notice = ticket["privacy_notice"]
    return {
        **ticket,
        "dates": dates,
        "channel_label": _choice_label(Channel, ticket["channel"]),
        "thread": messages,
        "mail_files": mails,
        "notice_shown": _local(notice["first_shown"]) if notice else "",
    }


def _request_view(request: dict) -> dict:
    return {
        "kind": _choice_label(DataRequestKind, request["kind"]),
        "state": _choice_label(DataRequestState, request["state"]),
        "created": _local(request["created_at"]),
        "completed": _local(request["completed_at"]),
    }


def _language_name(code: str) -> str:
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code


def _choice_label(choices, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code
