"""Who may see and change what in the portal: scoping, login, POST only."""

from __future__ import annotations

import pytest
from django.core import mail

from tests import factories
from tests.portal_support import PNG, alice, bob, staff_reply, upload, url
from vivadesk_wagtail.models import (
    OutboundEmail,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)

SECRET_SUBJECT = "Bobs geheimer Vertrag"


def _state():
    return (
        TicketMessage.objects.count(),
        TicketAttachment.objects.count(),
        OutboundEmail.objects.count(),
        list(TicketMessage.objects.values_list("ticket__status", flat=True)),
    )


@pytest.fixture
def bobs_ticket(db):
    ticket = factories.ticket(bob(), subject=SECRET_SUBJECT)
    staff_reply(ticket, files=[("bob-plan.png", PNG)])
    return ticket


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, bobs_ticket):
    attachment = TicketAttachment.objects.get()
    for target in (
        url("my_requests"),
        url("new_request"),
        url("account"),
        url("ticket", bobs_ticket.reference),
        url("attachment", bobs_ticket.reference, attachment.pk),
    ):
        response = client.get(target)
        assert response.status_code == 302, target
        assert response["Location"].startswith(url("login")), target
        assert "next=" in response["Location"]
    for target in (
        url("comment", bobs_ticket.reference),
        url("mark_done", bobs_ticket.reference),
    ):
        response = client.post(target, {"body": "hi", "key": "k" * 32})
        assert response.status_code == 302
        assert response["Location"].startswith(url("login"))
    assert TicketMessage.objects.filter(body="hi").count() == 0


@pytest.mark.django_db
def test_other_customers_ticket_is_404_and_nothing_happens(
    client, bobs_ticket, django_capture_on_commit_callbacks
):
    attachment = TicketAttachment.objects.get()
    client.force_login(alice())
    mail.outbox.clear()
    before = _state()
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            client.get(url("ticket", bobs_ticket.reference)),
            client.get(url("attachment", bobs_ticket.reference, attachment.pk)),
            client.post(
                url("comment", bobs_ticket.reference),
                {
                    "body": "Von Alice",
                    "key": "a" * 32,
                    "attachments": [upload("x.png", PNG)],
                },
            ),
            client.post(url("mark_done", bobs_ticket.reference)),
        ]
    for response in responses:
        assert response.status_code == 404
        assert SECRET_SUBJECT.encode() not in response.content
        assert bobs_ticket.reference.encode() not in response.content
    assert _state() == before
    assert mail.outbox == []
    bobs_ticket.refresh_from_db()
    assert bobs_ticket.status == TicketStatus.OPEN


@pytest.mark.django_db
def test_attachment_id_of_another_ticket_is_404(client, bobs_ticket):
    """Alice's own reference with Bob's attachment id finds nothing."""
    user = alice()
    own = factories.ticket(user, subject="Alice fragt")
    attachment = TicketAttachment.objects.get()
    client.force_login(user)
    response = client.get(url("attachment", own.reference, attachment.pk))
    assert response.status_code == 404
    assert b"bob-plan" not in response.content


@pytest.mark.django_db
def test_new_request_cannot_follow_someone_elses_ticket(client, bobs_ticket):
    from vivadesk_wagtail.services import tickets

    tickets.change_status(bobs_ticket, TicketStatus.DONE)
    tickets.change_status(bobs_ticket, TicketStatus.CLOSED)
    user = alice()
    client.force_login(user)
    page = client.get(url("new_request"), {"follows": bobs_ticket.reference})
    assert SECRET_SUBJECT.encode() not in page.content
    response = client.post(
        url("new_request"),
        {
            "subject": "Neu",
            "body": "Text",
            "key": "b" * 32,
            "follows": bobs_ticket.reference,
        },
    )
    assert response.status_code == 302
    new = user.helpdesk_tickets.get()
    assert new.follows is None


@pytest.mark.django_db
def test_agent_may_download_any_attachment(client, bobs_ticket):
    from django.contrib.auth.models import Group

    agent = factories.StaffFactory()
    agent.groups.add(Group.objects.get(name="Help desk agents"))
    attachment = TicketAttachment.objects.get()
    client.force_login(agent)
    response = client.get(url("attachment", bobs_ticket.reference, attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


@pytest.mark.django_db
def test_attachment_of_internal_note_is_not_served_to_customer(client):
    from tests.portal_support import note

    user = alice()
    ticket = factories.ticket(user)
    note(ticket, files=[("intern.png", PNG)])
    attachment = TicketAttachment.objects.get()
    client.force_login(user)
    response = client.get(url("attachment", ticket.reference, attachment.pk))
    assert response.status_code == 404
    page = client.get(url("ticket", ticket.reference))
    assert b"intern.png" not in page.content


@pytest.mark.django_db
def test_get_changes_nothing(client):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = _state()
    # The old comment address leads to the ticket; "done" asks first.
    comment = client.get(url("comment", ticket.reference))
    assert comment.status_code == 302
    assert comment["Location"] == url("ticket", ticket.reference)
    assert client.get(url("mark_done", ticket.reference)).status_code == 200
    for target in (
        url("my_requests"),
        url("ticket", ticket.reference),
        url("new_request"),
        url("account"),
        url("ticket", ticket.reference) + "?body=x&status=done&done=1",
    ):
        assert client.get(target).status_code == 200
    assert _state() == before
    assert user.helpdesk_tickets.count() == 1


@pytest.mark.django_db
def test_state_changes_need_csrf(client):
    from django.test import Client

    user = alice()
    ticket = factories.ticket(user)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    before = _state()
    assert strict.post(url("mark_done", ticket.reference)).status_code == 403
    response = strict.post(
        url("comment", ticket.reference), {"body": "x", "key": "c" * 32}
    )
    assert response.status_code == 403
    assert _state() == before


@pytest.mark.django_db
def test_unknown_reference_is_plain_404(client):
    client.force_login(alice())
    assert client.get(url("ticket", "VIVA-99999")).status_code == 404
    assert client.get(url("my_requests") + "..%2F..%2Fetc/").status_code == 404
    assert client.get(url("my_requests") + "VIVA-1000%00/").status_code == 404
    assert (
        client.get(url("my_requests") + "VIVA-1000%00/attachments/1/").status_code
        == 404
    )
    for params in ({"q": "a\x00b"}, {"follows": "VIVA-1000\x00"}):
        assert client.get(url("my_requests"), params).status_code == 200
        assert client.get(url("new_request"), params).status_code == 200
    response = client.post(
        url("new_request"),
        {"subject": "S\x00", "body": "B", "key": "m" * 32, "follows": "X\x00"},
    )
    assert response.status_code == 200
