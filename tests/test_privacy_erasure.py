"""Erasing a customer (GDPR Art. 17, ``services.erasure``): a customer with
data in every corner of the help desk, put there through the real paths,
is erased by ``privacy_tasks.run_erasure``; afterwards no column of any
table and no stored file names them, in both ``ERASURE_TICKETS`` modes,
while another customer's data is untouched. Mail from the address later is
a stranger's; a run that crashed midway is finished by the sweeper."""

from __future__ import annotations

import email
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_mailbox.models import Mailbox, Message
from wagtail.models import ModelLogEntry
from wagtail.search.models import IndexEntry

from tests import emails, factories
from tests.pages_support import post
from vivadesk_wagtail import privacy_tasks
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import (
    CustomerProfile,
    DataRequest,
    DataRequestKind,
    DataRequestState,
    ErasureReason,
    InboundMail,
    InboundState,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)
from vivadesk_wagtail.pages.forms import HONEYPOT
from vivadesk_wagtail.services import (
    customers,
    data_requests,
    deliverability,
    erasure,
    satisfaction,
    search_index,
    tickets,
    uploads,
)
from vivadesk_wagtail.storage import private_storage, stored_files

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

ADDRESS = "zq.erase-me@example.org"
FIRST, LAST = "Zacharias", "Quellenbrink"
FULL = f"{FIRST} {LAST}"
#: What must be found nowhere after the erasure (compared lower-cased).
NEEDLES = (ADDRESS, FULL.lower(), FIRST.lower(), LAST.lower())

OTHER_ADDRESS = "erika.bleibt@example.com"
OTHER_NAME = "Erika Bleibtreu"

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
#: A PDF whose bytes name the customer (a scanned letter, say).
HIS_PDF = b"%PDF-1.4\n% Zacharias Quellenbrink\n1 0 obj<<>>endobj\n%%EOF\n"


# -- looking for the person everywhere -------------------------------------------


def database_hits(needles=NEEDLES) -> dict[str, int]:
    """``{"table.column": hits}`` of every column of every table whose text
    (cast, lower-cased) contains one of ``needles``. On SQLite the bytes are
    searched too: a blob (the segments of the FTS5 search index) reads as
    text only up to its first NUL."""
    quote = connection.ops.quote_name
    hits = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            description = connection.introspection.get_table_description(cursor, table)
            for column in description:
                name = quote(column.name)
                sql = (
                    f"SELECT COUNT(*) FROM {quote(table)} "
                    f"WHERE LOWER(CAST({name} AS TEXT)) LIKE %s"
                )
                if connection.vendor == "sqlite":
                    sql += f" OR INSTR(CAST({name} AS BLOB), CAST(%s AS BLOB)) > 0"
                for needle in needles:
                    params = [f"%{needle}%"]
                    if connection.vendor == "sqlite":
                        params.append(needle)
                    cursor.execute(sql, params)
                    (count,) = cursor.fetchone()
                    if count:
                        key = f"{table}.{column.name}"
                        hits[key] = hits.get(key, 0) + count
    return hits


def file_hits(needles=NEEDLES) -> list[str]:
    """Files of the private storage and of ``MEDIA_ROOT`` whose bytes (or
    name) contain one of ``needles``."""
    storage = private_storage()
    found = []
    for name in stored_files():
        with storage.open(name, "rb") as handle:
            data = handle.read().lower()
        if any(n.encode() in data or n in name.lower() for n in needles):
            found.append(name)
    for root, _dirs, files in os.walk(django_settings.MEDIA_ROOT):
        for name in files:
            path = Path(root) / name
            data = path.read_bytes().lower()
            if any(n.encode() in data or n in str(path).lower() for n in needles):
                found.append(str(path))
    return found


def indexed(ticket_pks):
    """The tickets' entries in the search index."""
    return IndexEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id__in=[str(pk) for pk in ticket_pks],
    )


def media_files() -> list[str]:
    return [
        str(Path(root) / name)
        for root, _dirs, files in os.walk(django_settings.MEDIA_ROOT)
        for name in files
    ]


# -- a customer with data everywhere ---------------------------------------------


@pytest.fixture
def mailbox_settings(settings, tmp_path):
    """django-mailbox keeps its copies (the original and attachments) in a
    ``MEDIA_ROOT`` of this test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DJANGO_MAILBOX_STORE_ORIGINAL_MESSAGE = True
    settings.DJANGO_MAILBOX_STRIP_UNALLOWED_MIMETYPES = False
    return settings


def notification_id(ticket) -> str:
    return OutboundEmail.objects.filter(ticket=ticket).latest("pk").message_id


def contact_form_ticket(address: str, name: str, subject: str, message: str):
    pdf = SimpleUploadedFile("befund.pdf", PDF, "application/pdf")
    response = post(
        Client(),
        "/de/kontakt/",
        name=name,
        email=address,
        subject=subject,
        message=message,
        customer_number="K-7781",
        attachments=[pdf],
    )
    assert response.status_code in (200, 302), response.status_code
    user = CustomerProfile.objects.for_address(address).get().user
    customers.confirm(user, full_name=name, password="kunden-pass-123")
    return Ticket.objects.filter(customer=user).latest("pk"), user


def seed_other_customer() -> dict:
    """A second customer whose data must survive: a form ticket, a mail
    reply with a file, an indexed subject."""
    ticket, user = contact_form_ticket(
        OTHER_ADDRESS, OTHER_NAME, "Toner leer", "Bitte neuen Toner schicken."
    )
    result = ingest(
        emails.build(
            sender=f"{OTHER_NAME} <{OTHER_ADDRESS}>",
            subject=f"AW: [{ticket.reference}] Toner leer",
            in_reply_to=notification_id(ticket),
            body="Noch eine Frage zum Toner.",
            attachments=[("foto.txt", b"Tonerfoto\n", "text/plain")],
        )
    )
    assert result.outcome == "reply", result
    return {"user": user, "ticket": ticket}


def other_state(other: dict) -> dict:
    ticket = Ticket.objects.get(pk=other["ticket"].pk)
    attachments = TicketAttachment.objects.filter(ticket=ticket)
    return {
        "user": get_user_model().objects.filter(pk=other["user"].pk).exists(),
        "profile": CustomerProfile.objects.for_address(OTHER_ADDRESS).count(),
        "subject": ticket.subject,
        "customer": ticket.customer_id,
        "bodies": list(ticket.messages.order_by("pk").values_list("body", flat=True)),
        "form_data": ticket.form_data,
        "files": sorted(
            (a.original_name, private_storage().exists(a.file.name))
            for a in attachments
        ),
        "mails": InboundMail.objects.filter(sender=OTHER_ADDRESS).count(),
        "raw": all(m.raw for m in InboundMail.objects.filter(sender=OTHER_ADDRESS)),
        "outbox": OutboundEmail.objects.filter(ticket=ticket).count(),
        "indexed": indexed([ticket.pk]).count(),
    }


def seed_customer(agent, other_ticket) -> dict:
    """Zacharias Quellenbrink, through the real paths: a contact-form ticket
    with a file and extra form data, replies by mail (one through
    django-mailbox's own path), a held mail, a caught spam post, staff
    replies and notes naming him, status changes, a rating whose comment
    names him, a deliverability mark cleared, the search index, a ready data
    export."""
    ticket, user = contact_form_ticket(
        ADDRESS,
        FULL,
        f"Drucker von {LAST} streikt",
        f"Hallo, hier ist {FULL}, mein Drucker streikt.",
    )
    ingest(
        emails.build(
            sender=f"{FULL} <{ADDRESS}>",
            subject=f"AW: [{ticket.reference}] Drucker",
            in_reply_to=notification_id(ticket),
            body=f"Immer noch kaputt. Gruss, {FULL}",
            attachments=[("protokoll.txt", f"Log von {LAST}\n".encode(), "text/plain")],
        )
    )
    box = Mailbox.objects.create(name="pipe")
    box.process_incoming_message(
        email.message_from_bytes(
            emails.build(
                sender=f"{FULL} <{ADDRESS}>",
                subject=f"AW: [{ticket.reference}] per Pipe",
                body=f"Per Pipe geschickt von {FIRST}.",
                attachments=[("pipe.txt", f"Anhang {LAST}\n".encode(), "text/plain")],
            )
        )
    )
    # A mail about somebody else's ticket: held, on that ticket.
    held = ingest(
        emails.build(
            sender=f"{FULL} <{ADDRESS}>",
            subject=f"AW: [{other_ticket.reference}] Toner",
            body=f"Ich bin {FULL} und nicht Erika.",
        )
    )
    assert (held.outcome, held.reason) == ("held", "sender_mismatch"), held
    post(
        Client(),
        "/de/kontakt/",
        name=FULL,
        email=ADDRESS,
        subject="Gewinnspiel",
        message=f"Spam im Namen von {FULL}",
        attachments=[SimpleUploadedFile("spam.pdf", HIS_PDF, "application/pdf")],
        **{HONEYPOT: "https://cheap.example"},
    )
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=f"Guten Tag Herr {LAST}, bitte starten Sie neu.",
            kind=MessageKind.STAFF,
            author=agent,
            attachments=[uploads.from_bytes("anleitung.pdf", HIS_PDF)],
        ),
    )
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=f"{FIRST} ruft jeden Tag an.", kind=MessageKind.NOTE, author=agent
        ),
    )
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=user)
    satisfaction.rate(ticket, "good", f"Danke, {FIRST} {LAST} ist zufrieden.")
    deliverability.mark_undeliverable(ADDRESS, f"550 5.1.1 <{ADDRESS}>: unknown")
    profile = CustomerProfile.objects.for_address(ADDRESS).get()
    assert deliverability.clear_undeliverable(profile, by=agent, ticket=ticket)
    second = factories.ticket(user, subject=f"Rechnung {LAST}", body="Rechnung?")
    tickets.change_status(second, TicketStatus.DONE, by=agent)
    tickets.close_done_tickets(now=timezone.now() + timedelta(days=30))
    search_index.update_changed()
    export = ready_export(user)
    return {"user": user, "ticket": ticket, "second": second, "export": export}


def ready_export(user) -> DataRequest:
    """A finished export whose archive (in the private storage) is full of
    the customer's data, written through ``services.data_requests``."""
    request = DataRequest.objects.filter(user=user, kind=DataRequestKind.EXPORT).first()
    if request is None:
        request = data_requests.request_export(user)
    request.refresh_from_db()
    if request.state != DataRequestState.READY or not request.file:
        name = f"vivadesk/exports/test-{request.pk}.json"
        data = f'{{"name": "{FULL}", "email": "{ADDRESS}"}}'.encode()
        private_storage().save(name, _content(data))
        data_requests.set_archive_name(request, name)
        data_requests.finish_export(request, name, len(data), {"tickets": 2})
    request.refresh_from_db()
    assert private_storage().exists(request.file.name)
    return request


def _content(data: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(data)


def schedule_and_make_due(user, agent) -> DataRequest:
    request = data_requests.schedule_erasure_by_agent(
        user, agent=agent, reason=ErasureReason.CUSTOMER_ASKED
    )
    DataRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    return request


@pytest.fixture
def world(site, agent, mailbox_settings):
    """Both customers seeded, the erasure of the first scheduled and due,
    and a mail from him held after his account was deactivated."""
    other = seed_other_customer()
    seeded = seed_customer(agent, other["ticket"])
    request = schedule_and_make_due(seeded["user"], agent)
    late = ingest(emails.build(sender=f"{FULL} <{ADDRESS}>", subject="Noch da?"))
    assert (late.outcome, late.reason) == ("held", "deactivated_sender"), late
    seeded.update(other=other, request=request, before=other_state(other))
    return seeded


def assert_seeded_everywhere(world) -> None:
    """The scanner finds the person before the erasure (it can fail)."""
    hits = database_hits()
    for table in (
        "auth_user",
        "vivadesk_wagtail_customerprofile",
        "vivadesk_wagtail_ticket",
        "vivadesk_wagtail_ticketmessage",
        "vivadesk_wagtail_inboundmail",
        "vivadesk_wagtail_outboundemail",
        "vivadesk_wagtail_caughtsubmission",
        "django_mailbox_message",
        "wagtailcore_modellogentry",
        "vivadesk_wagtail_satisfactionrating",
    ):
        assert any(key.startswith(f"{table}.") for key in hits), (table, hits)
    assert any("indexentry" in key for key in hits), sorted(hits)
    files = file_hits()
    assert any("/raw-mail/" in name for name in files), files
    assert any("/attachments/" in name for name in files), files
    assert any("/spam/" in name for name in files), files
    assert private_storage().exists(world["export"].file.name)
    assert any(name.startswith(str(django_settings.MEDIA_ROOT)) for name in files)
    assert len(TicketAttachment.objects.filter(ticket__customer=world["user"])) == 4
    assert Message.objects.count() == 1 and len(media_files()) >= 2


def assert_other_customer_intact(world) -> None:
    assert other_state(world["other"]) == world["before"]
    assert world["before"]["files"] == [("befund.pdf", True), ("foto.txt", True)]
    assert world["before"]["indexed"] == 1 and world["before"]["raw"]


# -- the erasure -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_erasure_leaves_nothing_about_the_customer(world, settings, mode):
    settings.VIVADESK = {**settings.VIVADESK, "ERASURE_TICKETS": mode}
    assert_seeded_everywhere(world)
    user, request = world["user"], world["request"]
    ticket_ids = [world["ticket"].pk, world["second"].pk]
    references = [world["ticket"].reference, world["second"].reference]
    messages_before = {
        pk: list(
            TicketMessage.objects.filter(ticket_id=pk)
            .order_by("pk")
            .values_list("kind", "created_at")
        )
        for pk in ticket_ids
    }

    assert privacy_tasks.run_erasure(request.pk) == "done"

    assert database_hits() == {}
    assert file_hits() == []
    assert media_files() == []
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    request.refresh_from_db()
    assert request.state == DataRequestState.DONE
    assert request.user_id is None and request.last_error == ""
    summary = request.summary
    assert summary["attachments"] == 4
    assert summary["caught_posts"] == 1
    assert summary["mailbox_messages"] == 1
    assert summary["exports"] == 1
    assert summary["mails"] >= 4  # two replies, two held mails
    assert summary["outbox"] >= 3
    assert summary["log_entries"] >= 5
    export = DataRequest.objects.get(pk=world["export"].pk)
    assert (export.state, export.file.name, export.user_id) == (
        DataRequestState.EXPIRED,
        "",
        None,
    )
    if mode == "delete":
        assert summary["tickets_deleted"] == 2 and summary["tickets_anonymised"] == 0
        assert not Ticket.objects.filter(pk__in=ticket_ids).exists()
        assert not indexed(ticket_ids).exists()
    else:
        assert summary["tickets_anonymised"] == 2 and summary["tickets_deleted"] == 0
        kept = Ticket.objects.filter(pk__in=ticket_ids).order_by("pk")
        assert [t.reference for t in kept] == references
        assert {t.customer.username for t in kept} == {erasure.PLACEHOLDER_USERNAME}
        assert [t.status for t in kept] == [TicketStatus.CLOSED] * 2
        for ticket in kept:
            assert ticket.form_data == []
            assert (
                list(ticket.messages.order_by("pk").values_list("kind", "created_at"))
                == messages_before[ticket.pk]
            )
            assert not ticket.messages.exclude(body="").exists()
            assert ticket.channel == "web"
        assert indexed(ticket_ids).count() == 2
    assert_other_customer_intact(world)


def test_anonymised_tickets_keep_their_statistics_and_lose_their_secrets(
    world, settings, agent_client
):
    settings.VIVADESK = {**settings.VIVADESK, "ERASURE_TICKETS": "anonymise"}
    ticket = world["ticket"]
    secret = ticket.secret
    events_before = list(
        ticket.messages.filter(kind=MessageKind.EVENT).values_list("event", flat=True)
    )
    assert privacy_tasks.run_erasure(world["request"].pk) == "done"
    ticket.refresh_from_db()
    assert ticket.secret != secret
    assert ticket.messages.filter(kind=MessageKind.EVENT).count() == len(events_before)
    events = list(
        ticket.messages.filter(kind=MessageKind.EVENT).values_list("event", flat=True)
    )
    assert events == [
        {key: e[key] for key in ("event", "old", "new") if key in e}
        for e in events_before
    ]
    assert not ticket.messages.exclude(message_id=None).exists()
    assert not ticket.messages.exclude(idempotency_key=None).exists()
    assert not ticket.messages.filter(author__isnull=False, kind="customer").exists()
    assert ticket.messages.filter(kind=MessageKind.STAFF, author__isnull=False).exists()
    logs = ModelLogEntry.objects.filter(object_id=str(ticket.pk))
    assert logs.filter(action="vivadesk.status").count() >= 2
    for entry in logs:
        assert entry.label.startswith(f"[{ticket.reference}] ")
        assert set(entry.data) <= erasure.SAFE_LOG_KEYS
    keeper = ticket.customer
    assert not keeper.is_active and not keeper.has_usable_password()
    assert (keeper.email, keeper.first_name, keeper.last_name) == ("", "", "")
    assert not CustomerProfile.objects.filter(user=keeper).exists()
    # The staff screen and the listing still show the ticket.
    screen = agent_client.get(
        f"/admin/snippets/vivadesk_wagtail/ticket/inspect/{ticket.pk}/"
    )
    assert screen.status_code == 200
    assert ticket.reference in screen.content.decode()
    listing = agent_client.get("/admin/snippets/vivadesk_wagtail/ticket/?show=all")
    assert listing.status_code == 200
    # A staff note on it mails nobody (the placeholder has no address).
    OutboundEmail.objects.all().delete()
    tickets.add_message(
        ticket, tickets.NewMessage(body="Statistik", kind=MessageKind.NOTE)
    )
    assert not OutboundEmail.objects.exclude(recipient__contains="@viva.de").exists()
    # Erasing the placeholder would take every anonymised ticket along.
    with pytest.raises(erasure.NotErasable):
        erasure.erase_customer(keeper)


@pytest.mark.parametrize(
    ("mode", "reason"), [("anonymise", "unknown_sender"), ("delete", "unknown_sender")]
)
def test_mail_after_the_erasure_comes_from_a_stranger(world, settings, mode, reason):
    settings.VIVADESK = {**settings.VIVADESK, "ERASURE_TICKETS": mode}
    old_id = notification_id(world["ticket"])
    reference = world["ticket"].reference
    assert privacy_tasks.run_erasure(world["request"].pk) == "done"
    tickets_before = Ticket.objects.count()
    users_before = get_user_model().objects.count()
    fresh = ingest(emails.build(sender=f"{FULL} <{ADDRESS}>", subject="Hallo?"))
    reply = ingest(
        emails.build(
            sender=f"{FULL} <{ADDRESS}>",
            subject=f"AW: [{reference}] Drucker",
            in_reply_to=old_id,
            body="Ist das noch offen?",
        )
    )
    for result in (fresh, reply):
        assert (result.outcome, result.reason, result.ticket) == ("held", reason, None)
    assert Ticket.objects.count() == tickets_before
    assert get_user_model().objects.count() == users_before
    assert not CustomerProfile.objects.for_address(ADDRESS).exists()
    held = InboundMail.objects.filter(sender=ADDRESS)
    assert held.count() == 2
    assert set(held.values_list("state", "ticket")) == {(InboundState.HELD, None)}


def test_a_crashed_erasure_is_finished_by_the_sweeper(world, settings, monkeypatch):
    settings.VIVADESK = {**settings.VIVADESK, "ERASURE_TICKETS": "delete"}
    request = world["request"]

    def crash(user):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(erasure, "_remove_exports", crash)
    with pytest.raises(RuntimeError):
        privacy_tasks.run_erasure(request.pk)
    request.refresh_from_db()
    assert request.state == DataRequestState.SCHEDULED
    assert request.last_error == "RuntimeError"
    assert request.attempts == 1
    # Half done: the tickets went, the account is still there.
    assert not Ticket.objects.filter(customer=world["user"]).exists()
    assert get_user_model().objects.filter(pk=world["user"].pk).exists()
    assert database_hits() != {}
    # Within STALLED_AFTER the sweeper leaves it to the (dead) worker.
    assert privacy_tasks.sweep_data_requests()["erasures_queued"] == 0
    monkeypatch.undo()
    DataRequest.objects.filter(pk=request.pk).update(
        started_at=timezone.now() - data_requests.STALLED_AFTER - timedelta(minutes=1)
    )
    report = privacy_tasks.sweep_data_requests()
    assert report["erasures_queued"] == 1
    request.refresh_from_db()
    assert request.state == DataRequestState.DONE, request.last_error
    assert request.attempts == 2 and request.last_error == ""
    assert database_hits() == {}
    assert file_hits() == []
    assert_other_customer_intact(world)


def test_a_crash_between_files_and_rows_is_finished_by_a_rerun(
    world, settings, monkeypatch
):
    """Files of a chunk are gone, its rows not yet: the rerun deletes them
    (their files missing is fine)."""
    settings.VIVADESK = {**settings.VIVADESK, "ERASURE_TICKETS": "anonymise"}
    request = world["request"]
    real = tickets.anonymise

    def crash(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(tickets, "anonymise", crash)
    with pytest.raises(RuntimeError):
        privacy_tasks.run_erasure(request.pk)
    assert TicketAttachment.objects.filter(ticket__customer=world["user"]).count() == 4
    assert not any(
        private_storage().exists(a.file.name)
        for a in TicketAttachment.objects.filter(ticket__customer=world["user"])
    )
    monkeypatch.setattr(tickets, "anonymise", real)
    assert privacy_tasks.run_erasure(request.pk) == "done"
    assert database_hits() == {}
    assert file_hits() == []


def test_a_second_run_of_a_finished_erasure_does_nothing(world):
    request = world["request"]
    assert privacy_tasks.run_erasure(request.pk) == "done"
    summary = DataRequest.objects.get(pk=request.pk).summary
    assert privacy_tasks.run_erasure(request.pk) == "skipped"
    assert DataRequest.objects.get(pk=request.pk).summary == summary
    assert erasure.erase_customer(None) == {}


def test_staff_accounts_are_not_erased(agent):
    with pytest.raises(erasure.NotErasable):
        erasure.erase_customer(agent)
