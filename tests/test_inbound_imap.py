"""The real-server test: a customer's reply APPENDed to a private Dovecot IMAP
server is fetched through django-mailbox and lands on its ticket, with its
attachment, and the staff are told."""

from __future__ import annotations

import imaplib
import time

import pytest
from django.core import mail
from django_mailbox.models import Mailbox

from tests import emails, factories
from vivadesk_wagtail import inbound_tasks
from vivadesk_wagtail.mail import inbound, polling
from vivadesk_wagtail.models import InboundMail, MailboxPoll, OutboundEmail, Ticket

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def append(server, raw: bytes) -> None:
    imap = imaplib.IMAP4(server.host, server.port)
    imap.login(server.user, server.password)
    imap.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
    imap.logout()


def count_inbox(server) -> int:
    imap = imaplib.IMAP4(server.host, server.port)
    imap.login(server.user, server.password)
    _typ, data = imap.select("INBOX")
    imap.logout()
    return int(data[0])


def test_reply_via_imap_lands_on_ticket_with_attachment(dovecot):
    ticket = factories.ticket()
    notification = OutboundEmail.objects.filter(ticket=ticket).latest("pk")
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification.message_id,
        body="Anbei das Protokoll.\n\n> alter Text\n",
        attachments=[("protokoll.pdf", PDF, "application/pdf")],
    )
    append(dovecot, raw)
    append(dovecot, emails.build(sender="fremd@example.org", subject="Hallo"))
    box = Mailbox.objects.create(name="helpdesk", uri=dovecot.uri("Processed"))
    mail.outbox.clear()

    assert inbound_tasks.poll_mailboxes() == {"helpdesk": "2 new"}

    message = ticket.messages.filter(channel="email").get()
    assert message.body == "Anbei das Protokoll."
    assert [a.original_name for a in message.attachments.all()] == ["protokoll.pdf"]
    assert any(ticket.reference in m.subject for m in mail.outbox)
    assert InboundMail.objects.get(reason="unknown_sender").state == "held"
    assert count_inbox(dovecot) == 0
    assert MailboxPoll.objects.get(mailbox=box).failures == 0
    # A second poll finds nothing new and changes nothing.
    assert polling.poll_mailbox(box) == 0
    assert ticket.messages.filter(channel="email").count() == 1


def test_broken_mailbox_does_not_stop_the_others(dovecot):
    append(dovecot, emails.build(sender="fremd@example.org"))
    Mailbox.objects.create(
        name="broken", uri=f"imap://nobody:wrong@127.0.0.1:{dovecot.port}"
    )
    Mailbox.objects.create(name="good", uri=dovecot.uri())
    results = inbound_tasks.poll_mailboxes()
    assert results["good"] == "1 new"
    assert results["broken"].startswith("failed")
    broken = MailboxPoll.objects.get(mailbox__name="broken")
    assert broken.failures == 1 and broken.locked_by == ""


def test_leased_mailbox_is_not_polled_twice(dovecot):
    append(dovecot, emails.build(sender="fremd@example.org"))
    box = Mailbox.objects.create(name="helpdesk", uri=dovecot.uri())
    token = polling.acquire(box)
    assert token
    assert polling.poll_mailbox(box) == 0
    assert count_inbox(dovecot) == 1
    polling.release(box, token)
    assert polling.poll_mailbox(box) == 1


def _five(server) -> None:
    factories.customer()
    for n in range(5):
        append(server, emails.build(subject=f"Mail {n}", body=f"Text {n}"))


def _crash_on_third(monkeypatch):
    real_record = inbound.record
    calls = {"n": 0}

    def flaky(raw, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("storage went away")
        return real_record(raw, **kwargs)

    monkeypatch.setattr(inbound, "record", flaky)
    return monkeypatch


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_crash_between_fetch_and_store_loses_and_doubles_nothing(
    dovecot,
    monkeypatch,
    protocol,
):
    if protocol == "pop3" and not dovecot.pop3_port:
        pytest.skip("dovecot-pop3d is not installed")
    _five(dovecot)
    uri = dovecot.pop3_uri() if protocol == "pop3" else dovecot.uri()
    box = Mailbox.objects.create(name=protocol, uri=uri)
    _crash_on_third(monkeypatch)
    with pytest.raises(OSError):
        polling.poll_mailbox(box)
    assert Ticket.objects.count() == 2
    monkeypatch.undo()
    polling.poll_mailbox(box)
    assert count_inbox(dovecot) == 0
    subjects = sorted(Ticket.objects.values_list("subject", flat=True))
    assert subjects == [f"Mail {n}" for n in range(5)]
    assert InboundMail.objects.count() == 5
