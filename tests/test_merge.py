"""Merging a ticket into another (``services.merge``, ``staff.merge``): what
moves and keeps its dates, the pointers both ways, the refusals, two merges
racing, the audit log, and who may use the merge page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.log_actions import registry
from wagtail.models import ModelLogEntry
from wagtail.search.backends import get_search_backend

from tests import emails, factories
from tests.concurrency import run_together
from tests.staff_support import assert_denied, screen_url, url
from tests.targets_support import target as service_target
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import (
    InboundMail,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
    ticket_answers,
)
from vivadesk_wagtail.portal.events import event_text
from vivadesk_wagtail.services import merge, search_index, tickets, uploads
from vivadesk_wagtail.staff.thread import describe_event

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

OTHER = "fremd@example.com"


def pair(customer=None, other_customer=None):
    """Two open tickets: the source (with an attachment and a mail reply)
    and the target."""
    customer = customer or factories.customer()
    source = factories.ticket(
        customer,
        subject="Toner leer",
        attachments=[uploads.from_bytes("foto.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)],
    )
    target = factories.ticket(other_customer or customer, subject="Drucker kaputt")
    return source, target


def reply_by_mail(ticket) -> InboundMail:
    notification = OutboundEmail.objects.filter(ticket=ticket).latest("pk")
    result = ingest(
        emails.build(
            subject=f"AW: [{ticket.reference}] {ticket.subject}",
            in_reply_to=notification.message_id,
            body="Noch eine Frage.",
        )
    )
    assert result.outcome == "reply", result
    return InboundMail.objects.get(ticket_message__body="Noch eine Frage.")


def fresh(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# --- what moves ----------------------------------------------------------------


def test_messages_move_with_their_dates_attachments_and_mails(agent):
    source, target = pair()
    inbound = reply_by_mail(source)
    before = {m.pk: m.created_at for m in source.messages.all()}
    attachments = {a.pk: a.message_id for a in TicketAttachment.objects.all()}
    assert attachments and len(before) == 2

    merge.merge(source, target, by=agent)

    moved = TicketMessage.objects.filter(pk__in=before)
    assert {m.pk: m.created_at for m in moved} == before
    assert set(moved.values_list("ticket_id", flat=True)) == {target.pk}
    for attachment in TicketAttachment.objects.filter(pk__in=attachments):
        assert attachment.ticket_id == target.pk
        assert attachment.message_id == attachments[attachment.pk]
    inbound.refresh_from_db()
    assert inbound.ticket_id == target.pk
    # the source keeps only its merge event
    (event,) = fresh(source).messages.all()
    assert event.kind == MessageKind.EVENT
    assert event.event["event"] == "merged_into"


def test_the_source_closes_with_a_pointer_and_no_status_mail(agent):
    source, target = pair()
    merge.merge(source, target, by=agent)
    source, target = fresh(source), fresh(target)
    assert source.status == TicketStatus.CLOSED
    assert source.closed_at is not None and source.merged_into_id == target.pk
    assert target.is_open and target.merged_into_id is None
    assert list(target.merged_tickets.all()) == [source]
    events = {row.event for row in OutboundEmail.objects.filter(ticket=source)}
    assert "ticket_closed" not in events and "status_changed" not in events


def test_form_data_is_appended_marked_with_source_and_date(agent):
    customer = factories.customer()
    source = tickets.open_ticket(
        customer=customer,
        subject="Toner",
        first=tickets.NewMessage(body="Leer.", author=customer),
        form_data=[{"name": "device", "label": "Gerät", "value": "LaserJet 4"}],
    )
    target = tickets.open_ticket(
        customer=customer,
        subject="Drucker",
        first=tickets.NewMessage(body="Kaputt.", author=customer),
        form_data=[{"name": "room", "label": "Raum", "value": "3.14"}],
    )
    merge.merge(source, target, by=agent)
    day = timezone.localdate().isoformat()
    answers = ticket_answers(fresh(target))
    assert answers == [
        {"label": "Raum", "value": "3.14"},
        {"label": f"Gerät ({source.reference}, {day})", "value": "LaserJet 4"},
    ]
    stored = fresh(target).form_data[-1]
    assert stored["merged_from"] == source.reference and "name" not in stored


def test_follow_ups_and_earlier_merges_point_to_the_target(agent):
    customer = factories.customer()
    earlier, source, target = (factories.ticket(customer) for _ in range(3))
    merge.merge(earlier, source, by=agent)
    follow_up = factories.ticket(customer)
    Ticket.objects.filter(pk=follow_up.pk).update(follows=source)
    merge.merge(source, target, by=agent)
    assert fresh(earlier).merged_into_id == target.pk
    assert fresh(follow_up).follows_id == target.pk
    assert set(fresh(target).merged_tickets.all()) == {earlier, source}


def test_both_threads_tell_of_the_merge_in_both_languages(agent):
    source, target = pair()
    merge.merge(source, target, by=agent)
    into = fresh(source).messages.get(kind=MessageKind.EVENT)
    came = fresh(target).messages.get(event__event="merged_from")
    assert into.kind in ("event",) and came.kind == MessageKind.EVENT
    with translation.override("en"):
        assert describe_event(into.event) == f"Merged into {target.reference}"
        assert describe_event(came.event) == (
            f"{source.reference} merged into this ticket"
        )
        assert event_text(into) == f"This request was merged into {target.reference}."
        assert event_text(came) == f"{source.reference} was merged into this request."


def test_another_customer_reads_no_reference_in_the_thread(agent):
    source, target = pair(other_customer=factories.customer(OTHER))
    merge.merge(source, target, by=agent, confirmed_other_customer=True)
    into = fresh(source).messages.get(kind=MessageKind.EVENT)
    came = fresh(target).messages.get(event__event="merged_from")
    with translation.override("en"):
        assert target.reference not in event_text(into)
        assert source.reference not in event_text(came)
        assert "another request" in event_text(into)


def test_both_tickets_get_a_history_entry(agent):
    source, target = pair()
    merge.merge(source, target, by=agent)
    entries = ModelLogEntry.objects.filter(action="vivadesk.merge")
    by_ticket = {entry.object_id: entry for entry in entries}
    assert set(by_ticket) == {str(source.pk), str(target.pk)}
    assert all(entry.user_id == agent.pk for entry in entries)
    with translation.override("en"):
        action = registry.get_action_label("vivadesk.merge")
        assert str(action) == "Merge"
        formatter = registry.get_formatter(by_ticket[str(source.pk)])
        assert formatter.format_message(by_ticket[str(source.pk)]) == (
            f"Merged into {target.reference}"
        )
        assert formatter.format_message(by_ticket[str(target.pk)]) == (
            f"{source.reference} merged into this ticket"
        )


def test_both_tickets_are_indexed_again_for_search(agent):
    source, target = pair()
    search_index.index_tickets([source.pk, target.pk])
    tickets.add_message(
        source,
        tickets.NewMessage(body="Quietschgeräusch", author=source.customer),
    )
    merge.merge(source, target, by=agent)
    found = {
        t.reference for t in get_search_backend().search("Quietschgeräusch", Ticket)
    }
    assert found == {target.reference}


# --- refusals ------------------------------------------------------------------


def assert_unchanged(source, target, thread_sizes):
    for ticket, size in zip((source, target), thread_sizes, strict=True):
        assert fresh(ticket).messages.count() == size
    assert not ModelLogEntry.objects.filter(action="vivadesk.merge").exists()


def test_a_ticket_is_not_merged_into_itself(agent):
    source, _target = pair()
    with pytest.raises(merge.SameTicketError):
        merge.merge(source, fresh(source), by=agent)
    assert fresh(source).is_open


@pytest.mark.parametrize("which", ["source", "target"])
def test_closed_tickets_are_not_merged(agent, settings, which):
    source, target = pair()
    closing = source if which == "source" else target
    tickets.change_status(closing, TicketStatus.DONE, by=agent)
    settings.VIVADESK = {**settings.VIVADESK, "AUTO_CLOSE_AFTER": timedelta(0)}
    tickets.close_done_tickets()
    sizes = (fresh(source).messages.count(), fresh(target).messages.count())
    with pytest.raises(merge.TicketClosedError):
        merge.merge(source, target, by=agent)
    assert_unchanged(source, target, sizes)


def test_merged_tickets_are_neither_source_nor_target(agent):
    customer = factories.customer()
    first, second, third = (factories.ticket(customer) for _ in range(3))
    merge.merge(first, second, by=agent)
    with pytest.raises(merge.AlreadyMergedError):
        merge.merge(first, third, by=agent)
    with pytest.raises(merge.AlreadyMergedError):
        merge.merge(third, first, by=agent)
    assert fresh(third).is_open and fresh(third).messages.count() == 1


def test_a_ticket_is_not_merged_into_its_own_merged_child(agent):
    source, target = pair()
    merge.merge(source, target, by=agent)
    with pytest.raises(merge.MergeCycleError):
        merge.merge(target, source, by=agent)
    assert fresh(target).is_open


def test_another_customer_needs_a_confirmation(agent):
    source, target = pair(other_customer=factories.customer(OTHER))
    sizes = (source.messages.count(), target.messages.count())
    with pytest.raises(merge.OtherCustomerError):
        merge.merge(source, target, by=agent)
    assert_unchanged(source, target, sizes)
    merge.merge(source, target, by=agent, confirmed_other_customer=True)
    assert fresh(source).merged_into_id == target.pk


def test_refusals_are_checked_again_under_the_lock(agent):
    """The caller's copies say "open"; the rows say otherwise."""
    source, target = pair()
    stale_source = fresh(source)
    merge.merge(source, target, by=agent)
    other = factories.ticket(source.customer)
    assert stale_source.merged_into_id is None
    with pytest.raises(merge.AlreadyMergedError):
        merge.merge(stale_source, other, by=agent)


def merge_job(source, target, by) -> int:
    return merge.merge(source, target, by=by).pk


@pytest.mark.postgres
def test_two_agents_merging_a_pair_both_ways_at_once(agent, other_agent):
    """A→B and B→A at the same moment: one merge wins, the other is refused,
    nothing deadlocks and no message is lost."""

    for _round in range(3):
        first, second = pair()
        messages = set(
            TicketMessage.objects.filter(ticket__in=[first, second]).values_list(
                "pk", flat=True
            )
        )
        jobs = [(first, second, agent), (second, first, other_agent)]
        results, errors = run_together(2, lambda i, jobs=jobs: merge_job(*jobs[i]))
        assert len(results) == 1, (results, errors)
        assert len(errors) == 1 and isinstance(errors[0], merge.MergeError), errors
        (winner,) = results
        loser = first if winner == second.pk else second
        assert fresh(loser).merged_into_id == winner
        assert fresh(Ticket(pk=winner)).is_open
        assert messages <= set(
            TicketMessage.objects.filter(ticket_id=winner).values_list("pk", flat=True)
        )


# --- the merge page ------------------------------------------------------------


def merge_url(ticket) -> str:
    return url("merge", ticket.pk)


def test_agent_merges_through_the_page(agent_client):
    source, target = pair()
    page = agent_client.get(merge_url(source))
    assert page.status_code == 200
    # the customer's other open ticket is offered
    assert f"?target={target.reference}" in page.content.decode()
    compare = agent_client.get(merge_url(source), {"target": target.reference})
    text = compare.content.decode()
    assert compare.status_code == 200
    for value in (source.reference, target.reference, "Toner leer", "Drucker kaputt"):
        assert value in text
    assert 'name="confirm_other_customer"' not in text
    assert fresh(source).is_open  # a GET changes nothing
    response = agent_client.post(merge_url(source), {"target": target.reference})
    assert response.status_code == 302
    assert response["Location"] == screen_url(target)
    assert fresh(source).merged_into_id == target.pk


def test_the_page_takes_the_number_alone_and_refuses_unknown_ids(agent_client):
    source, target = pair()
    number = target.reference.split("-")[1]
    page = agent_client.get(merge_url(source), {"target": number})
    assert "Drucker kaputt" in page.content.decode()
    missing = agent_client.get(merge_url(source), {"target": "VIVA-999999"})
    assert missing.status_code == 200
    assert 'name="csrfmiddlewaretoken"' not in missing.content.decode()


def test_the_page_shows_the_refusal_and_offers_no_button(agent_client, agent):
    source, target = pair()
    merge.merge(source, target, by=agent)
    other = factories.ticket(source.customer)
    page = agent_client.get(merge_url(other), {"target": source.reference})
    text = page.content.decode()
    assert "has already been merged" in text or "bereits" in text
    assert 'method="post"' not in text


def test_other_customer_needs_the_box_ticked_on_the_page(agent_client):
    source, target = pair(other_customer=factories.customer(OTHER))
    page = agent_client.get(merge_url(source), {"target": target.reference})
    assert 'name="confirm_other_customer"' in page.content.decode()
    refused = agent_client.post(merge_url(source), {"target": target.reference})
    assert refused.status_code == 200
    assert fresh(source).merged_into_id is None
    done = agent_client.post(
        merge_url(source),
        {"target": target.reference, "confirm_other_customer": "on"},
    )
    assert done.status_code == 302
    assert fresh(source).merged_into_id == target.pk


def test_the_ticket_screen_points_both_ways_and_offers_merge(agent_client, agent):
    source, target = pair()
    screen = agent_client.get(screen_url(source)).content.decode()
    assert merge_url(source) in screen
    merge.merge(source, target, by=agent)
    source_screen = agent_client.get(screen_url(source)).content.decode()
    target_screen = agent_client.get(screen_url(target)).content.decode()
    assert f'href="{screen_url(target)}"' in source_screen
    assert f'href="{screen_url(source)}"' in target_screen
    assert merge_url(source) not in source_screen  # merged: no second merge


def test_non_agents_cannot_use_the_merge_page(client, editor):
    source, target = pair()
    address = merge_url(source)
    anonymous = client.get(address)
    assert anonymous.status_code == 302
    assert reverse("wagtailadmin_login") in anonymous["Location"]
    assert client.post(address, {"target": target.reference}).status_code == 302
    client.force_login(editor)
    assert_denied(client.get(address), address)
    assert_denied(client.post(address, {"target": target.reference}), address)
    customer = Client()
    customer.force_login(source.customer)
    refused = customer.post(address, {"target": target.reference})
    assert refused.status_code == 302
    assert refused["Location"].startswith(reverse("wagtailadmin_login"))
    assert fresh(source).merged_into_id is None


# --- the portal ----------------------------------------------------------------


def portal_url(ticket) -> str:
    return reverse("vivadesk_wagtail:ticket", args=[ticket.reference])


def test_the_portal_points_from_the_old_request_to_the_new(client, agent):
    source, target = pair()
    merge.merge(source, target, by=agent)
    client.force_login(source.customer)
    page = client.get(portal_url(source))
    assert page.status_code == 200
    assert f'href="{portal_url(target)}"' in page.content.decode()
    listing = client.get(reverse("vivadesk_wagtail:my_requests"), {"state": "open"})
    text = listing.content.decode()
    assert target.reference in text and source.reference not in text


def test_no_pointer_to_another_customers_request(client, agent):
    source, target = pair(other_customer=factories.customer(OTHER))
    merge.merge(source, target, by=agent, confirmed_other_customer=True)
    client.force_login(source.customer)
    page = client.get(portal_url(source))
    assert page.status_code == 200
    assert target.reference not in page.content.decode()
    assert client.get(portal_url(target)).status_code == 404


def test_the_merged_ticket_has_no_pending_service_target(agent):
    """The source stops counting: no due time of a closed ticket stays in
    the "overdue" filter (the target keeps its own)."""
    service_target(first=2, resolution=16)
    source, target = pair()
    assert fresh(source).next_due is not None
    merge.merge(source, target, by=agent)
    assert fresh(source).next_due is None
    assert fresh(target).next_due is not None
