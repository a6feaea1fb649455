"""Erasing a customer (GDPR Art. 17, :func:`erase_customer`) and disposing
of tickets as ``ERASURE_TICKETS`` says (:func:`dispose_tickets`, shared with
``services.retention``). Steps work in chunks that commit on their own,
files before the rows naming them, the account last: a rerun after a crash
anywhere finishes the job.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import translation
from django.utils.translation import gettext_lazy
from wagtail.models import ModelLogEntry

from .. import conf
from ..models import (
    CaughtSubmission,
    DataRequest,
    DataRequestKind,
    DataRequestState,
    InboundMail,
    OutboundEmail,
    Ticket,
    TicketAttachment,
)
from ..storage import private_storage
from . import customers, data_requests, search_index, tickets

logger = logging.getLogger(__name__)

#: Rows read, and written, per transaction.
CHUNK = 200
#: The account anonymised tickets belong to (:func:`placeholder`).
PLACEHOLDER_USERNAME = customers.PLACEHOLDER_USERNAME
#: What an anonymised ticket's subject says (in the site's language).
ANONYMISED_SUBJECT = gettext_lazy("(anonymised request)")
#: What an anonymised ticket's audit-log entries are labelled.
ANONYMISED_LABEL = gettext_lazy("(anonymised)")
#: Keys of audit-log data that hold codes, numbers or ids, never what a
#: person wrote or is called; anything else is dropped when a ticket is
#: anonymised or an entry named an erased address.
SAFE_LOG_KEYS = frozenset(
    {"old", "new", "message", "reason", "category", "ticket", "caught", "request"}
)

DELETE, ANONYMISE = "delete", "anonymise"


class NotErasable(ValueError):
    """The account is not a customer's (staff, or the anonymised tickets'
    placeholder, whose erasure would take every anonymised ticket along)."""


# -- the placeholder -----------------------------------------------------------


is_placeholder = customers.is_placeholder


def placeholder():
    """The account anonymised tickets are moved to (created on first use)."""
    model = get_user_model()
    found = model.objects.filter(username=PLACEHOLDER_USERNAME).first()
    if found is not None:
        return found
    user = model(username=PLACEHOLDER_USERNAME, is_active=False)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # another worker made it first
        return model.objects.get(username=PLACEHOLDER_USERNAME)
    return user


def _in_site_language(text) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


# -- small tools -----------------------------------------------------------------


def in_chunks(queryset: QuerySet, work: Callable[[list[int]], int]) -> int:
    """Call ``work`` with the ids of ``queryset``, :data:`CHUNK` at a time in
    id order (a chunk's work may take its rows out of the queryset, or not);
    returns the sum of what ``work`` returned."""
    done, last = 0, 0
    while True:
        pks = list(
            queryset.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not pks:
            return done
        done += work(pks)
        last = pks[-1]


def _delete_files(storage, names: Iterable[str]) -> None:
    """Delete stored files; one that is gone already (a rerun) is fine."""
    for name in names:
        if name:
            storage.delete(name)


def _contains_any(value, needles: tuple[str, ...]) -> bool:
    text = str(value).lower()
    return any(needle in text for needle in needles)


def _safe_log_data(data, needles: tuple[str, ...] = ()) -> dict:
    """Audit-log data reduced to :data:`SAFE_LOG_KEYS` with plain values
    that quote none of ``needles``."""
    if not isinstance(data, dict):
        return {}
    return {
        key: value
        for key, value in data.items()
        if key in SAFE_LOG_KEYS
        and (value is None or isinstance(value, int | float | str))
        and not (needles and _contains_any(value, needles))
    }


# -- tickets ---------------------------------------------------------------------


def dispose_tickets(
    tickets_queryset: QuerySet, mode: str, counts: Counter | None = None
) -> int:
    """Delete (``mode="delete"``) or anonymise (``"anonymise"``) the tickets
    of ``tickets_queryset``; returns how many.

    Deleting removes each ticket with everything hanging off it: files,
    messages, attachments, the mails it came with and the mails it sent, its
    audit log and search-index entry. Anonymising keeps the ticket rows for
    statistics (status, dates, channel, category, reference, the messages'
    kinds and times) and takes away whatever names or quotes a person: see
    :func:`_anonymise_chunk`. Tickets anonymised before are left alone, so
    a rerun does nothing more. ``counts`` (if given) gathers what went:
    ``attachments``, ``mails``, ``outbox``, ``log_entries``.
    """
    if mode not in (DELETE, ANONYMISE):
        raise ValueError(mode)
    counts = counts if counts is not None else Counter()
    if mode == DELETE:
        return in_chunks(tickets_queryset, lambda pks: _delete_chunk(pks, counts))
    keeper = placeholder()
    subject = _in_site_language(ANONYMISED_SUBJECT)
    todo = tickets_queryset.exclude(customer=keeper)
    return in_chunks(todo, lambda pks: _anonymise_chunk(pks, keeper, subject, counts))


def _ticket_mails(pks: list[int]) -> QuerySet:
    """Inbound mail of these tickets: replies, held mail routed to them,
    bounces of the mails they sent."""
    return InboundMail.objects.filter(
        Q(ticket_id__in=pks)
        | Q(ticket_message__ticket_id__in=pks)
        | Q(outbound__ticket_id__in=pks)
    )


def _ticket_logs(pks: list[int]) -> QuerySet:
    return ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id__in=[str(pk) for pk in pks],
    )


def _ticket_files(pks: list[int]) -> list[str]:
    """Stored files of these tickets: attachments and raw mail."""
    files = TicketAttachment.objects.filter(ticket_id__in=pks)
    names = list(files.values_list("file", flat=True))
    return names + list(_ticket_mails(pks).values_list("raw", flat=True))


def _delete_ticket_files(pks: list[int]) -> None:
    """The tickets' files now, before their rows; inside the transaction
    that deletes the rows, also (on commit) any file added meanwhile."""
    storage = private_storage()
    if transaction.get_connection().in_atomic_block:
        names = _ticket_files(pks)
        transaction.on_commit(lambda: _delete_files(storage, names))
    else:
        _delete_files(storage, _ticket_files(pks))


def _delete_chunk(pks: list[int], counts: Counter) -> int:
    _delete_ticket_files(pks)
    with transaction.atomic():
        locked = list(
            Ticket.objects.select_for_update()
            .filter(pk__in=pks)
            .values_list("pk", flat=True)
        )
        _delete_ticket_files(locked)
        counts["attachments"] += TicketAttachment.objects.filter(
            ticket_id__in=locked
        ).count()
        counts["outbox"] += OutboundEmail.objects.filter(ticket_id__in=locked).count()
        counts["mails"] += _ticket_mails(locked).delete()[0]
        counts["log_entries"] += _ticket_logs(locked).delete()[0]
        # Messages, attachments and outbox rows go with their ticket; its
        # search-index entry leaves on ``post_delete`` (``search_index``).
        Ticket.objects.filter(pk__in=locked).delete()
    return len(locked)


def _anonymise_chunk(pks: list[int], keeper, subject: str, counts: Counter) -> int:
    """Anonymise tickets ``pks``: their files first, then in one transaction
    the attachments, inbound mails and outbox rows deleted, the tickets and
    their threads stripped (``tickets.anonymise``), the audit-log entries
    relabelled and reduced, and the search index updated."""
    _delete_ticket_files(pks)
    with transaction.atomic():
        _delete_ticket_files(pks)
        counts["attachments"] += TicketAttachment.objects.filter(
            ticket_id__in=pks
        ).delete()[0]
        counts["mails"] += _ticket_mails(pks).delete()[0]
        counts["outbox"] += OutboundEmail.objects.filter(ticket_id__in=pks).delete()[0]
        done = tickets.anonymise(pks, customer=keeper, subject=subject)
        counts["log_entries"] += _scrub_ticket_logs(pks)
        search_index.index_tickets(pks)
    return done


def _scrub_ticket_logs(pks: list[int]) -> int:
    """Label the tickets' audit-log entries with the reference alone and
    keep only data of :data:`SAFE_LOG_KEYS`."""
    references = dict(Ticket.objects.filter(pk__in=pks).values_list("pk", "reference"))
    label = _in_site_language(ANONYMISED_LABEL)
    entries = list(_ticket_logs(pks).only("pk", "object_id", "label", "data"))
    for entry in entries:
        entry.label = f"[{references.get(int(entry.object_id), '')}] {label}"
        entry.data = _safe_log_data(entry.data)
    ModelLogEntry.objects.bulk_update(entries, ["label", "data"], batch_size=CHUNK)
    return len(entries)


def compact_search_index() -> None:
    """Make the search index forget removed text for good. SQLite's FTS5
    table (Wagtail's database backend) only marks deleted rows: their terms
    stay in the index segments until they are merged, which its
    ``optimize`` command does now. Other backends need nothing."""
    from wagtail.search.models import IndexEntry

    if connection.vendor != "sqlite":
        return
    table = f"{IndexEntry._meta.db_table}_fts"
    if table not in connection.introspection.table_names():
        return
    quoted = connection.ops.quote_name(table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quoted}({quoted}) VALUES ('optimize')")


# -- the customer ----------------------------------------------------------------


def _needles(user) -> tuple[str, ...]:
    """The customer's addresses, lower-cased (account and profile)."""
    profile = customers.existing_profile(user)
    found = {(user.email or "").strip().lower()}
    if profile is not None:
        found.add(profile.email.strip().lower())
    return tuple(sorted(address for address in found if address))


def _address_q(field: str, needles: tuple[str, ...], lookup: str = "iexact") -> Q:
    condition = Q(pk__in=[])
    for needle in needles:
        condition |= Q(**{f"{field}__{lookup}": needle})
    return condition


def delete_inbound_mail(queryset: QuerySet) -> int:
    """Delete the inbound mail of ``queryset`` with its raw source, a chunk
    at a time; returns how many rows went."""
    storage = private_storage()

    def work(pks: list[int]) -> int:
        rows = InboundMail.objects.filter(pk__in=pks)
        _delete_files(storage, rows.values_list("raw", flat=True))
        with transaction.atomic():
            return rows.delete()[0]

    return in_chunks(queryset, work)


def _mail_about(needles: tuple[str, ...]) -> QuerySet:
    """Inbound mail from the addresses (held mail, mail to other tickets),
    naming them in From or in its text (bounces), or answering mail we sent
    to them."""
    return InboundMail.objects.filter(
        _address_q("sender", needles)
        | _address_q("from_header", needles, "icontains")
        | _address_q("text", needles, "icontains")
        | _address_q("outbound__recipient", needles)
    )


def _delete_outbox(needles: tuple[str, ...]) -> int:
    rows = OutboundEmail.objects.filter(_address_q("recipient", needles))
    return in_chunks(
        rows,
        lambda pks: OutboundEmail.objects.filter(pk__in=pks).delete()[0],
    )


def _delete_caught(needles: tuple[str, ...]) -> int:
    """Caught contact-form posts with the address, and their files."""
    rows = CaughtSubmission.objects.filter(
        _address_q("email", needles) | _address_q("message", needles, "icontains")
    )
    storage = private_storage()

    def work(pks: list[int]) -> int:
        chunk = CaughtSubmission.objects.filter(pk__in=pks)
        for files in chunk.values_list("files", flat=True):
            _delete_files(storage, (item.get("path") for item in files or []))
        with transaction.atomic():
            return chunk.delete()[0]

    return in_chunks(rows, work)


def _delete_mailbox_messages(needles: tuple[str, ...]) -> int:
    """django-mailbox's own copies (mail that came in through its paths)
    from or to the addresses, with their stored files."""
    from django_mailbox.models import Message, MessageAttachment

    rows = Message.objects.filter(
        _address_q("from_header", needles, "icontains")
        | _address_q("to_header", needles, "icontains")
    )

    def work(pks: list[int]) -> int:
        chunk = Message.objects.filter(pk__in=pks)
        attachments = MessageAttachment.objects.filter(message_id__in=pks)
        _delete_files(default_storage, chunk.values_list("eml", flat=True))
        _delete_files(default_storage, attachments.values_list("document", flat=True))
        with transaction.atomic():
            attachments.delete()
            # Replies threaded onto these go with them (django-mailbox's
            # ``in_reply_to`` cascades).
            return chunk.delete()[0]

    return in_chunks(rows, work)


def _remove_exports(user) -> int:
    """The customer's export archives: files first; the requests stay in the
    register, expired, and lose their link to the account with it."""
    exports = DataRequest.objects.filter(
        user=user,
        kind=DataRequestKind.EXPORT,
        state__in=[DataRequestState.PENDING, DataRequestState.READY],
    )
    storage = private_storage()
    removed = 0
    for request in exports.order_by("pk"):
        _delete_files(storage, [request.file.name])
        data_requests.expire_export(request)
        removed += 1
    # An expired or cancelled request may still name a file (an archive
    # written after a crash): never keep one.
    for request in DataRequest.objects.filter(user=user).exclude(file=""):
        _delete_files(storage, [request.file.name])
    return removed


def _scrub_logs(user, needles: tuple[str, ...]) -> int:
    """Audit-log entries naming the addresses (a deliverability mark cleared
    on another ticket, an admin's edit of the account): relabelled and
    reduced; entries about the account itself are deleted."""
    user_type = ContentType.objects.get_for_model(get_user_model())
    about_user = ModelLogEntry.objects.filter(
        content_type=user_type, object_id=str(user.pk)
    )
    count = in_chunks(
        about_user, lambda pks: ModelLogEntry.objects.filter(pk__in=pks).delete()[0]
    )
    naming = ModelLogEntry.objects.annotate(data_text=Cast("data", TextField())).filter(
        _address_q("label", needles, "icontains")
        | _address_q("data_text", needles, "icontains")
    )
    label = _in_site_language(ANONYMISED_LABEL)

    def scrub(pks: list[int]) -> int:
        entries = list(ModelLogEntry.objects.filter(pk__in=pks).only("label", "data"))
        for entry in entries:
            if _contains_any(entry.label, needles):
                entry.label = label
            entry.data = _safe_log_data(entry.data, needles)
        ModelLogEntry.objects.bulk_update(entries, ["label", "data"])
        return len(entries)

    count += in_chunks(naming, scrub)
    # What the customer did stays in the history, by nobody in particular.
    ModelLogEntry.objects.filter(user_id=user.pk).update(user=None)
    if apps.is_installed("django.contrib.admin"):
        # Django's own admin log (should an admin have edited the account).
        from django.contrib.admin.models import LogEntry

        LogEntry.objects.filter(
            Q(content_type=user_type, object_id=str(user.pk))
            | _address_q("object_repr", needles, "icontains")
            | _address_q("change_message", needles, "icontains")
        ).delete()
    return count


@transaction.atomic
def _delete_account(user) -> None:
    """The last step: the Wagtail profile's avatar, the help-desk profile and
    the account (its Wagtail profile cascades)."""
    if apps.is_installed("wagtail.users"):
        from wagtail.users.models import UserProfile

        profile = UserProfile.objects.filter(user=user).first()
        if profile is not None and profile.avatar:
            profile.avatar.delete(save=False)
    user_model = get_user_model()
    locked = user_model.objects.select_for_update().filter(pk=user.pk).first()
    if locked is not None:
        locked.delete()


def erase_customer(user) -> dict:
    """Remove everything about the customer ``user``; returns counts only.

    In order, each step committing on its own: the customer's tickets as
    ``ERASURE_TICKETS`` says (:func:`dispose_tickets`); inbound mail from,
    naming or bouncing mail to their address (with the raw files); outbox
    rows to their address (account mails); contact-form posts the spam
    traps caught with it; django-mailbox's own copies of their mail; the
    files of their data exports (the requests stay, without personal data);
    audit-log entries naming them; then the account with its profiles.
    Idempotent: a rerun after a crash anywhere finishes the job (its counts
    then cover what was left).
    """
    if user is None:
        return {}
    if customers.is_staff_user(user) or is_placeholder(user):
        raise NotErasable(user.pk)
    needles = _needles(user)
    counts: Counter = Counter()
    mode = conf.get("ERASURE_TICKETS")
    done = dispose_tickets(Ticket.objects.filter(customer=user), mode, counts)
    counts["tickets_deleted" if mode == DELETE else "tickets_anonymised"] += done
    counts["mails"] += delete_inbound_mail(_mail_about(needles))
    counts["outbox"] += _delete_outbox(needles)
    counts["caught_posts"] += _delete_caught(needles)
    counts["mailbox_messages"] += _delete_mailbox_messages(needles)
    counts["exports"] += _remove_exports(user)
    counts["log_entries"] += _scrub_logs(user, needles)
    # Mail that came in while the steps above ran.
    counts["mails"] += delete_inbound_mail(_mail_about(needles))
    compact_search_index()
    _delete_account(user)
    summary = {
        key: counts[key]
        for key in (
            "tickets_anonymised",
            "tickets_deleted",
            "attachments",
            "mails",
            "outbox",
            "caught_posts",
            "mailbox_messages",
            "exports",
            "log_entries",
        )
    }
    logger.info("Customer %s erased: %s", user.pk, summary)
    return summary
