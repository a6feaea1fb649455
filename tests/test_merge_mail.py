"""Mail around a merge: the one mail each customer gets, and mail about the
merged ticket (our Message-IDs, the customer's, the reference in the
subject) landing on the target, through the real inbound pipeline."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from tests import emails, factories
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import (
    InboundMail,
    InboundState,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketStatus,
)
from vivadesk_wagtail.services import merge

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

CUSTOMER = "kunde@example.com"
OTHER = "fremd@example.com"


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def html_of(message) -> str:
    (html, _mimetype) = message.alternatives[0]
    return html


def merged_pair(agent, *, language="de", other=False):
    """Two tickets, the first merged into the second; the mail outbox then
    holds only what the merge sent."""
    customer = factories.customer(language=language)
    target_customer = (
        factories.customer(OTHER, language=language, name="Otto Fremd")
        if other
        else customer
    )
    source = factories.ticket(customer, subject="Toner leer", language=language)
    target = factories.ticket(
        target_customer, subject="Drucker kaputt", language=language
    )
    mail.outbox.clear()
    merge.merge(source, target, by=agent, confirmed_other_customer=other)
    return source, target


def our_message_id(ticket) -> str:
    return OutboundEmail.objects.filter(ticket=ticket).earliest("pk").message_id


def landed(result, target) -> None:
    assert result.outcome == "reply", result
    assert result.ticket == target.reference
    message = Ticket.objects.get(pk=target.pk).messages.latest("pk")
    assert message.kind == MessageKind.CUSTOMER and message.body == result.body


# --- the customer is told once --------------------------------------------------


def test_the_customer_gets_exactly_one_mail_about_the_merge(agent):
    source, target = merged_pair(agent, language="en")
    (told,) = mails_to(CUSTOMER)
    assert not [m for m in mail.outbox if m is not told and m.to == [CUSTOMER]]
    row = OutboundEmail.objects.get(message_id=told.extra_headers["Message-ID"])
    assert row.event == "ticket_merged" and row.ticket_id == target.pk
    assert told.subject == f"[{target.reference}] Requests merged: Drucker kaputt"
    sentence = (
        f"Your request {source.reference} has been merged into your request "
        f"{target.reference} “Drucker kaputt”."
    )
    assert sentence in " ".join(told.body.split())
    assert "Drucker kaputt" in html_of(told) and source.reference in html_of(told)
    assert OutboundEmail.objects.filter(event="ticket_merged").count() == 1


def test_the_merge_mail_is_threaded_like_the_tickets_other_mail(agent):
    _source, target = merged_pair(agent, language="en")
    (told,) = mails_to(CUSTOMER)
    earlier = our_message_id(target)
    assert told.extra_headers["In-Reply-To"]
    assert earlier in told.extra_headers["References"].split()


def test_the_merge_mail_is_in_the_customers_language(agent):
    merged_pair(agent, language="de")
    (told,) = mails_to(CUSTOMER)
    row = OutboundEmail.objects.get(message_id=told.extra_headers["Message-ID"])
    assert row.language == "de"


def test_each_customer_gets_one_mail_about_their_own_ticket(agent):
    source, target = merged_pair(agent, language="en", other=True)
    (to_source,) = mails_to(CUSTOMER)
    (to_target,) = mails_to(OTHER)
    assert to_source.subject.startswith(f"[{source.reference}] ")
    assert to_target.subject.startswith(f"[{target.reference}] ")
    # neither customer reads the other's name, address or subject
    source_text = to_source.body + html_of(to_source)
    target_text = to_target.body + html_of(to_target)
    for text, foreign in (
        (source_text, ["Drucker kaputt", target.reference, OTHER, "Otto"]),
        (target_text, ["Toner leer", CUSTOMER, "Erika"]),
    ):
        for word in foreign:
            assert word not in text, word
    assert source.reference in target_text
    assert len(mail.outbox) == 2


# --- mail about the merged ticket lands on the target ---------------------------


def test_a_reply_to_our_mail_about_the_merged_ticket_lands_on_the_target(agent):
    source, target = merged_pair(agent)
    result = ingest(
        emails.build(
            subject="ganz anderer Betreff",
            in_reply_to=our_message_id(source),
            body="Antwort auf die alte Mail.",
        )
    )
    landed(result, target)
    assert Ticket.objects.get(pk=source.pk).status == TicketStatus.CLOSED


def test_a_reply_to_the_customers_own_mail_lands_on_the_target(agent):
    customer = factories.customer()
    first = ingest(
        emails.build(
            subject="Toner leer", message_id="<erste@example.com>", body="Leer."
        )
    )
    assert first.outcome == "new_ticket", first
    source = Ticket.objects.get(reference=first.ticket)
    target = factories.ticket(customer, subject="Drucker kaputt")
    merge.merge(source, target, by=agent)
    result = ingest(
        emails.build(
            subject="Nachtrag",
            in_reply_to="<erste@example.com>",
            body="Nachtrag zur ersten Mail.",
        )
    )
    landed(result, target)


def test_the_old_reference_in_the_subject_lands_on_the_target(agent):
    source, target = merged_pair(agent)
    result = ingest(
        emails.build(subject=f"[{source.reference}] noch was", body="Per Betreff.")
    )
    landed(result, target)


def test_the_ingest_command_routes_a_raw_mail_to_the_target(agent, tmp_path):
    source, target = merged_pair(agent)
    path = tmp_path / "reply.eml"
    path.write_bytes(
        emails.build(
            subject=f"AW: [{source.reference}] Toner leer",
            in_reply_to=our_message_id(source),
            body="Über die Kommandozeile.",
        )
    )
    out = StringIO()
    call_command("vivadesk_ingest", "--json", str(path), stdout=out)
    (line,) = out.getvalue().strip().splitlines()
    result = json.loads(line)
    assert result["outcome"] == "reply" and result["ticket"] == target.reference


def test_the_source_customer_of_a_merge_across_customers_is_held(agent):
    """The sender check stays: the target's customer must be the sender. Mail
    from the source's customer is kept for agents, never lost."""
    source, target = merged_pair(agent, other=True)
    before = target.messages.count()
    result = ingest(
        emails.build(subject=f"[{source.reference}] noch was", body="Ich bin's.")
    )
    assert result.outcome == "held" and result.reason == "sender_mismatch"
    row = InboundMail.objects.get(reason="sender_mismatch")
    assert row.state == InboundState.HELD and row.raw
    assert Ticket.objects.get(pk=target.pk).messages.count() == before
    welcome = ingest(
        emails.build(
            sender=f"Otto Fremd <{OTHER}>",
            subject=f"[{source.reference}] von Otto",
            body="Ich gehöre zum Ziel.",
        )
    )
    landed(welcome, target)


def test_a_chain_of_merges_is_followed_a_bounded_number_of_hops(agent):
    customer = factories.customer()
    chain = [factories.ticket(customer) for _ in range(3)]
    Ticket.objects.filter(pk=chain[0].pk).update(
        merged_into=chain[1], status=TicketStatus.CLOSED
    )
    Ticket.objects.filter(pk=chain[1].pk).update(
        merged_into=chain[2], status=TicketStatus.CLOSED
    )
    result = ingest(emails.build(subject=f"[{chain[0].reference}] x", body="Kette."))
    landed(result, chain[2])
    # a loop (never written by a merge) ends instead of running forever
    Ticket.objects.filter(pk=chain[2].pk).update(merged_into=chain[0])
    looped = ingest(emails.build(subject=f"[{chain[0].reference}] y", body="Loop."))
    assert looped.outcome in ("new_ticket", "reply", "held"), looped
