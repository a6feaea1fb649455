"""The collision warning of the ticket screen (issue 22, item 3): who else
has a ticket open (presence, heartbeat, leave), and the stale-form check
that sends no reply or note over messages the agent has not seen."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from tests import factories
from tests.concurrency import run_together
from tests.conftest import require_postgresql
from tests.staff_support import assert_denied, post_action, screen_url, url
from vivadesk_wagtail import checks
from vivadesk_wagtail.models import (
    Channel,
    MessageKind,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
    TicketViewer,
)
from vivadesk_wagtail.services import presence, tickets


def key() -> str:
    return uuid.uuid4().hex


def newest(ticket) -> int:
    return TicketMessage.objects.filter(ticket=ticket).latest("pk").pk


def customer_writes(ticket, body="Es geht wieder nicht!"):
    return tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=body,
            kind=MessageKind.CUSTOMER,
            channel=Channel.WEB,
            author=ticket.customer,
        ),
    )


def staff_replies(ticket):
    return TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.STAFF)


def heartbeat(client, ticket, **data):
    return client.post(url("presence", ticket.pk), data)


def banner(html: str) -> str:
    """The text of the "Also open by" live region."""
    found = re.search(r"data-vd-viewers>(.*?)</div>", html, re.S)
    assert found, "no viewers region"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def seen_input(html: str, prefix: str = "reply") -> str:
    found = re.search(rf'name="{prefix}-seen_message" value="(\d*)"', html)
    assert found, f"no {prefix}-seen_message input"
    return found.group(1)


# Presence ----------------------------------------------------------------


@pytest.mark.django_db
def test_others_name_the_other_agent_not_oneself(ticket, agent, other_agent):
    presence.touch(ticket, agent)
    assert presence.others(ticket, agent) == []
    presence.touch(ticket, other_agent)
    assert presence.others(ticket, agent) == [other_agent]
    assert presence.others(ticket, other_agent) == [agent]
    presence.touch(ticket, agent)  # a second touch is the same row
    assert TicketViewer.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db
def test_presence_expires_after_the_timeout(ticket, agent, other_agent, settings):
    settings.VIVADESK = {**settings.VIVADESK, "PRESENCE_TIMEOUT": timedelta(seconds=60)}
    now = timezone.now()
    presence.touch(ticket, other_agent, now=now - timedelta(seconds=59))
    assert presence.others(ticket, agent, now=now) == [other_agent]
    assert presence.others(ticket, agent, now=now + timedelta(seconds=2)) == []


@pytest.mark.django_db
def test_presence_costs_the_screen_two_queries(
    ticket, agent, django_assert_num_queries
):
    for _ in range(2):  # the first touch inserts, the second updates
        with django_assert_num_queries(2):
            presence.touch(ticket, agent)
            presence.others(ticket, agent)


@pytest.mark.django_db
def test_another_ticket_is_not_a_collision(ticket, agent, other_agent):
    second = factories.ticket(ticket.customer, subject="Zweite")
    presence.touch(second, other_agent)
    assert presence.others(ticket, agent) == []


@pytest.mark.django_db
def test_the_screen_shows_who_else_has_it_open(client, ticket, agent, other_agent):
    client.force_login(other_agent)
    assert client.get(screen_url(ticket)).status_code == 200
    client.force_login(agent)
    html = client.get(screen_url(ticket)).content.decode()
    assert banner(html) == "Also open by: Bert B"
    assert TicketViewer.objects.filter(ticket=ticket, user=agent).exists()
    client.force_login(other_agent)
    with translation.override("de"):
        html = client.get(screen_url(ticket)).content.decode()
    assert "Anna Agent" in banner(html) and "Bert B" not in banner(html)


@pytest.mark.django_db
def test_nobody_else_no_banner(agent_client, ticket):
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert banner(html) == ""
    assert "vivadesk_wagtail/js/collision.js" in html
    assert url("presence", ticket.pk) in html


@pytest.mark.django_db
def test_heartbeat_touches_and_answers_viewers_and_new_messages(
    agent_client, ticket, agent, other_agent
):
    since = newest(ticket)
    presence.touch(ticket, other_agent)
    response = heartbeat(agent_client, ticket, since=since)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["viewers"] == ["Bert B"]
    assert data["banner"] == "Also open by: Bert B"
    assert data["new_messages"] == 0 and data["notice"] == ""
    assert TicketViewer.objects.filter(ticket=ticket, user=agent).exists()

    customer_writes(ticket)
    tickets.add_message(  # the agent's own note is no news to the agent
        ticket, tickets.NewMessage(body="Notiz", kind=MessageKind.NOTE, author=agent)
    )
    data = heartbeat(agent_client, ticket, since=since).json()
    assert data["new_messages"] == 1
    assert data["notice"] == "A new message arrived since this page was loaded."
    assert heartbeat(agent_client, ticket, since="x").json()["new_messages"] == 0


@pytest.mark.django_db
def test_leave_removes_the_agent_but_not_a_newer_page(
    agent_client, ticket, agent, other_agent
):
    first = presence.touch(ticket, agent)
    later = presence.touch(ticket, agent, now=first + timedelta(seconds=5))
    # The closing page's beacon names its own last touch: the newer page stays.
    response = heartbeat(agent_client, ticket, leave="1", seen_at=first.isoformat())
    assert response.status_code == 204
    assert TicketViewer.objects.get(ticket=ticket, user=agent).seen_at == later
    for garbage in ("2026-13-45T00:00:00", "gestern"):  # unreadable: no condition
        assert (
            heartbeat(agent_client, ticket, leave="1", seen_at=garbage).status_code
            == 204
        )
    assert not TicketViewer.objects.filter(ticket=ticket, user=agent).exists()
    presence.touch(ticket, agent, now=later)
    heartbeat(agent_client, ticket, leave="1", seen_at=later.isoformat())
    assert not TicketViewer.objects.filter(ticket=ticket, user=agent).exists()
    assert presence.others(ticket, other_agent) == []


@pytest.mark.django_db
def test_leave_and_purge_remove_old_rows_of_anybody(ticket, agent, other_agent):
    old = timezone.now() - timedelta(hours=1)
    presence.touch(ticket, other_agent, now=old)
    presence.touch(ticket, agent)
    presence.leave(factories.ticket(ticket.customer), agent)
    assert list(TicketViewer.objects.values_list("user", flat=True)) == [agent.pk]
    presence.touch(ticket, other_agent, now=old)
    assert presence.purge(old + timedelta(seconds=1)) == 1
    assert TicketViewer.objects.count() == 1


@pytest.mark.django_db
def test_heartbeat_is_post_only_and_needs_an_existing_ticket(agent_client, ticket):
    assert agent_client.get(url("presence", ticket.pk)).status_code == 405
    assert agent_client.post(url("presence", 999999)).status_code == 404


@pytest.mark.django_db
def test_non_agents_are_refused(client, ticket, editor):
    presence_url = url("presence", ticket.pk)
    # anonymous: the admin's login
    response = client.post(presence_url, {"since": 1})
    assert response.status_code == 302 and "/login/" in response["Location"]
    # an editor without help-desk rights
    client.force_login(editor)
    assert_denied(client.post(presence_url, {"since": 1}), presence_url)
    assert_denied(client.post(presence_url, {"leave": "1"}), presence_url)
    # the ticket's own customer
    client.force_login(ticket.customer)
    response = client.post(presence_url, {"since": 1})
    assert response.status_code in (302, 403)
    assert b"viewers" not in response.content
    assert not TicketViewer.objects.exists()


@pytest.mark.django_db
def test_heartbeat_needs_the_csrf_token(agent, ticket):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    presence_url = url("presence", ticket.pk)
    assert client.post(presence_url, {"since": 1}).status_code == 403
    assert client.post(presence_url, {"leave": "1"}).status_code == 403
    assert not TicketViewer.objects.exists()
    html = client.get(screen_url(ticket)).content.decode()
    token = re.search(
        r'data-vd-presence[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken" '
        r'value="([^"]+)"',
        html,
    ).group(1)
    response = client.post(presence_url, {"since": 1, "csrfmiddlewaretoken": token})
    assert response.status_code == 200


# Stale-form check --------------------------------------------------------


@pytest.mark.django_db
def test_the_forms_carry_the_newest_message_of_the_page(agent_client, ticket):
    customer_writes(ticket)
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert seen_input(html, "reply") == str(newest(ticket))
    assert seen_input(html, "note") == str(newest(ticket))
    assert 'name="reply-stale_confirmed"' not in html


@pytest.mark.django_db
def test_a_customer_message_after_loading_stops_the_reply(agent_client, ticket):
    seen = newest(ticket)
    new = customer_writes(ticket, "Hat sich erledigt, danke!")
    data = {"body": "Bitte Treiber neu installieren.", "idempotency_key": key()}
    response = post_action(
        agent_client, ticket, "reply", seen_message=seen, set_status="done", **data
    )
    assert response.status_code == 200
    assert not staff_replies(ticket).exists()
    html = response.content.decode()
    assert "Your reply was not sent yet" in html
    assert "Nothing was sent: new messages arrived in the meantime." in html
    assert "Bitte Treiber neu installieren." in html  # the text is kept
    # The new message shows first, above the form's text.
    box = html.index('id="vd-stale"')
    assert box < html.index("Hat sich erledigt, danke!", box)
    assert html.index("Hat sich erledigt, danke!", box) < html.index(
        "Bitte Treiber neu installieren.", box
    )
    # Send anyway: the updated newest id, the confirmation, the chosen status.
    assert seen_input(html) == str(new.pk)
    assert 'name="reply-stale_confirmed" value="1"' in html
    assert 'name="reply-set_status" value="done">Send anyway</button>' in html
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW  # "done" was not applied either

    response = post_action(
        agent_client,
        ticket,
        "reply",
        seen_message=new.pk,
        stale_confirmed="1",
        set_status="done",
        **data,
    )
    assert response.status_code == 302
    assert staff_replies(ticket).count() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE
    # The same "Send anyway" again (a double click) sends nothing more.
    again = post_action(
        agent_client, ticket, "reply", seen_message=new.pk, stale_confirmed="1", **data
    )
    assert again.status_code == 302
    assert staff_replies(ticket).count() == 1


@pytest.mark.django_db
def test_a_message_after_the_warning_warns_again(agent_client, ticket):
    seen = newest(ticket)
    customer_writes(ticket, "Erste")
    data = {"body": "Antwort", "idempotency_key": key()}
    first = post_action(agent_client, ticket, "reply", seen_message=seen, **data)
    updated = seen_input(first.content.decode())
    customer_writes(ticket, "Noch eine Nachricht")
    second = post_action(
        agent_client,
        ticket,
        "reply",
        seen_message=updated,
        stale_confirmed="1",
        **data,
    )
    html = second.content.decode()
    assert second.status_code == 200 and not staff_replies(ticket).exists()
    assert "Another message arrived in the meantime." in html
    box = html[html.index('id="vd-stale"') :]
    assert "Noch eine Nachricht" in box and "Erste" not in box.split("</ol>")[0]


@pytest.mark.django_db
def test_own_messages_do_not_make_the_form_stale(agent_client, agent, ticket):
    seen = newest(ticket)
    response = post_action(
        agent_client, ticket, "note", body="Eigene Notiz", idempotency_key=key()
    )
    assert response.status_code == 302
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)  # own event
    response = post_action(
        agent_client,
        ticket,
        "reply",
        body="Antwort",
        idempotency_key=key(),
        seen_message=seen,
    )
    assert response.status_code == 302
    assert staff_replies(ticket).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("what", ["note", "reply", "status"])
def test_another_agents_note_reply_or_status_makes_it_stale(
    agent_client, ticket, other_agent, what
):
    seen = newest(ticket)
    if what == "status":
        tickets.change_status(ticket, TicketStatus.WAITING, by=other_agent)
    else:
        kind = MessageKind.NOTE if what == "note" else MessageKind.STAFF
        tickets.add_message(
            ticket, tickets.NewMessage(body="Von Bert", kind=kind, author=other_agent)
        )
    response = post_action(
        agent_client,
        ticket,
        "reply",
        body="Meine Antwort",
        idempotency_key=key(),
        seen_message=seen,
    )
    assert response.status_code == 200
    assert not staff_replies(ticket).exclude(author=other_agent).exists()
    html = response.content.decode()
    assert 'id="vd-stale"' in html
    if what == "status":
        assert "Status changed from" in html[html.index('id="vd-stale"') :]


@pytest.mark.django_db
def test_a_note_is_checked_too(agent_client, ticket):
    seen = newest(ticket)
    customer_writes(ticket, "Neue Kundennachricht")
    response = post_action(
        agent_client,
        ticket,
        "note",
        body="Meine Notiz",
        idempotency_key=key(),
        seen_message=seen,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert not TicketMessage.objects.filter(kind=MessageKind.NOTE).exists()
    assert "Your note was not added yet" in html and "Add the note anyway" in html
    assert seen_input(html, "note") != str(seen)
    assert seen_input(html, "reply") == str(newest(ticket))  # the other form


@pytest.mark.django_db
def test_a_double_submit_does_not_warn_about_the_first(agent_client, ticket):
    seen = newest(ticket)
    data = {"body": "Nur einmal bitte.", "idempotency_key": key()}
    first = post_action(agent_client, ticket, "reply", seen_message=seen, **data)
    assert first.status_code == 302
    customer_writes(ticket, "Kam gerade dazwischen")  # between the two submits
    second = post_action(agent_client, ticket, "reply", seen_message=seen, **data)
    assert second.status_code == 302
    assert staff_replies(ticket).count() == 1


@pytest.mark.django_db
def test_files_of_a_stale_reply_are_named_not_lost(agent_client, ticket):
    seen = newest(ticket)
    customer_writes(ticket)
    response = agent_client.post(
        screen_url(ticket),
        {
            "action": "reply",
            "reply-body": "Anbei die Anleitung",
            "reply-idempotency_key": key(),
            "reply-seen_message": seen,
            "reply-attachments": [
                SimpleUploadedFile("anleitung.txt", b"Schritt 1", "text/plain")
            ],
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please attach them again before sending" in html
    assert "<li>anleitung.txt</li>" in html
    assert not TicketAttachment.objects.filter(message__kind=MessageKind.STAFF)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["-1", "abc", "1.5"])
def test_a_tampered_seen_id_sends_nothing(agent_client, ticket, value):
    response = post_action(
        agent_client,
        ticket,
        "reply",
        body="Text",
        idempotency_key=key(),
        seen_message=value,
    )
    assert response.status_code == 200
    assert not staff_replies(ticket).exists()
    assert "Text" in response.content.decode()


@pytest.mark.django_db
def test_a_form_from_before_sends_after_an_error_without_losing_the_check(
    agent_client, ticket
):
    """A refused form (here: a refused file) keeps the id it was shown with,
    so a message that arrived meanwhile still stops the next send."""
    seen = newest(ticket)
    customer_writes(ticket)
    response = agent_client.post(
        screen_url(ticket),
        {
            "action": "reply",
            "reply-body": "Text",
            "reply-idempotency_key": key(),
            "reply-seen_message": seen,
            "reply-attachments": [SimpleUploadedFile("x.html", b"<html>", "text/html")],
        },
    )
    assert response.status_code == 200
    assert seen_input(response.content.decode()) == str(seen)


# Settings ----------------------------------------------------------------


@pytest.mark.parametrize("value", [timedelta(0), 90, None])
def test_presence_timeout_must_be_a_positive_duration(settings, value):
    settings.VIVADESK = {**settings.VIVADESK, "PRESENCE_TIMEOUT": value}
    errors = checks.check_vivadesk_settings()
    assert [e.id for e in errors] == ["vivadesk.E074"]
    assert "VIVADESK['PRESENCE_TIMEOUT']" in errors[0].msg


# PostgreSQL: concurrent writers ------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_touches_of_one_agent_make_one_row(agent, other_agent):
    require_postgresql()
    ticket = factories.ticket()
    users = [agent, other_agent]
    _results, errors = run_together(20, lambda i: presence.touch(ticket, users[i % 2]))
    assert errors == []
    assert TicketViewer.objects.filter(ticket=ticket).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_customer_message_racing_a_reply_is_never_skipped(agent):
    """Check and write hold the ticket's row lock: a customer message either
    stops the reply or comes after it, never unseen before it."""
    require_postgresql()
    ticket = factories.ticket()
    seen = newest(ticket)

    def work(i):
        if i % 2:
            return customer_writes(ticket, f"Kunde {i}").pk
        form_key = f"staff-staff-{ticket.pk}-{i:032x}"
        try:
            with presence.unless_newer(ticket, agent, seen=seen, key=form_key):
                return tickets.add_message(
                    ticket,
                    tickets.NewMessage(
                        body=f"Agent {i}", author=agent, idempotency_key=form_key
                    ),
                ).pk
        except presence.NewerMessages:
            return None

    _results, errors = run_together(10, work)
    assert errors == []
    replies = list(staff_replies(ticket).values_list("pk", flat=True))
    assert TicketMessage.objects.filter(kind=MessageKind.CUSTOMER).count() == 6
    for reply in replies:
        unseen = TicketMessage.objects.filter(
            ticket=ticket, kind=MessageKind.CUSTOMER, pk__gt=seen, pk__lt=reply
        )
        assert not unseen.exists()
