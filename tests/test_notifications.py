"""Who is mailed what, in which language, for every ticket event.

Mail goes through the whole path: the service writes outbox rows in its
transaction, the django-q2 task runs on commit (inline in tests) and hands the
mail to Django's in-memory backend.

Tests marked ``WAITS ON locale/de`` in their docstring assert German text that
comes from the German catalogue (``locale/de``), which the lead translates
centrally; they fail until the catalogue has these strings.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation
from wagtail.users.models import UserProfile

from tests import factories
from vivadesk_wagtail import tasks
from vivadesk_wagtail.mail import outbound
from vivadesk_wagtail.models import (
    Channel,
    MessageKind,
    OutboundEmail,
    OutboundState,
    TicketStatus,
)
from vivadesk_wagtail.services import tickets

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "kunde@example.com"
HELPDESK = "helpdesk@viva.de"


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def html_of(message) -> str:
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return html


def everything(message) -> str:
    return "\n".join([message.subject, message.body, html_of(message)])


def staff_reply(ticket, agent, body="Bitte starten Sie den Drucker neu.", **kw):
    return tickets.add_message(
        ticket,
        tickets.NewMessage(body=body, kind=MessageKind.STAFF, author=agent),
        **kw,
    )


def customer_comment(ticket, body="Geht immer noch nicht.", **kw):
    return tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=body, kind=MessageKind.CUSTOMER, author=ticket.customer, **kw
        ),
    )


def note(ticket, author, body="Kunde ist VIP, bitte schnell."):
    return tickets.add_message(
        ticket, tickets.NewMessage(body=body, kind=MessageKind.NOTE, author=author)
    )


def en_ticket(**kw):
    """A ticket of an English-speaking customer (English assertions)."""
    return factories.ticket(factories.customer(language="en"), language="en", **kw)


def by_event(messages) -> dict:
    rows = {row.message_id: row for row in OutboundEmail.objects.all()}
    return {rows[m.extra_headers["Message-ID"]].event: m for m in messages}


@pytest.fixture
def agent():
    return factories.StaffFactory(username="anna", email="anna@viva.de")


@pytest.fixture
def other_agent():
    return factories.StaffFactory(username="bernd", email="bernd@viva.de")


# --- events ---------------------------------------------------------------


def test_ticket_created_acknowledges_customer_and_tells_staff():
    ticket = factories.ticket()

    (ack,) = mails_to(CUSTOMER)
    assert ack.subject.startswith(f"[{ticket.reference}] ")
    # confirmed, and written by the signed-in customer: quoted
    assert "Seit gestern druckt der Drucker nicht mehr." in ack.body
    (notice,) = mails_to(HELPDESK)
    assert ticket.reference in notice.subject
    assert CUSTOMER in notice.body
    assert "Seit gestern druckt der Drucker nicht mehr." in notice.body
    assert len(mail.outbox) == 2
    assert set(OutboundEmail.objects.values_list("event", "state")) == {
        ("ticket_created", OutboundState.SENT),
        ("staff_new_ticket", OutboundState.SENT),
    }


def test_new_ticket_notice_goes_to_the_configured_staff_address(settings):
    settings.VIVADESK = {**settings.VIVADESK, "STAFF_NOTIFY_EMAIL": "team@viva.de"}
    factories.ticket()
    assert len(mails_to("team@viva.de")) == 1
    assert mails_to(HELPDESK) == []


def test_staff_reply_mails_the_customer_once(agent):
    ticket = factories.ticket()
    mail.outbox.clear()

    staff_reply(ticket, agent)

    (reply,) = mail.outbox  # the reply only: no separate "status changed" mail
    assert reply.to == [CUSTOMER]
    assert "Bitte starten Sie den Drucker neu." in reply.body
    assert reply.subject == f"[{ticket.reference}] Drucker druckt nicht"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_staff_reply_that_sets_done_invites_an_answer_in_the_same_mail(agent):
    ticket = en_ticket()
    mail.outbox.clear()

    staff_reply(ticket, agent, set_status=TicketStatus.DONE)

    (reply,) = mail.outbox
    assert "If something is still open, simply reply to this e-mail" in reply.body
    assert "If something is still open, simply reply to this e-mail" in html_of(reply)
    assert OutboundEmail.objects.get(event="staff_reply").context["status"] == "done"


def test_status_changes_mail_the_customer(agent):
    ticket = en_ticket()
    mail.outbox.clear()

    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)

    waiting, done = mails_to(CUSTOMER)
    assert "Waiting for your reply" in waiting.subject
    assert "We are waiting for your reply" in waiting.body
    assert done.subject == f"[{ticket.reference}] Done: Drucker druckt nicht"
    assert "If something is still open, simply reply to this e-mail" in done.body
    assert mails_to(HELPDESK) == []


def test_done_mail_sent_late_still_says_done(agent):
    """A retry after the customer already answered must not rewrite the mail."""
    ticket = en_ticket()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
        tickets.change_status(ticket, TicketStatus.DONE, by=agent)
        customer_comment(ticket)  # reopens before the Done mail goes out
    mail.outbox.clear()
    row = OutboundEmail.objects.get(event="ticket_done")
    assert tasks.send_outbound(row.pk) == "sent"
    (done,) = mail.outbox
    assert "Status of your request: Done" in done.body
    assert "If something is still open" in done.body


def test_customer_comment_tells_the_staff_address_never_the_customer():
    ticket = factories.ticket()
    mail.outbox.clear()

    customer_comment(ticket)

    (notice,) = mail.outbox
    assert notice.to == [HELPDESK]
    assert "Geht immer noch nicht." in notice.body
    assert not OutboundEmail.objects.filter(
        recipient=CUSTOMER, event="customer_replied"
    ).exists()


def test_customer_mail_reply_tells_the_assignee_and_reopens(agent):
    ticket = factories.ticket()
    tickets.assign(ticket, agent, by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    mail.outbox.clear()

    customer_comment(
        ticket,
        body="Leider doch nicht gelöst.",
        channel=Channel.EMAIL,
        message_id="<reply.1@customer.example>",
    )

    (notice,) = mail.outbox
    assert notice.to == ["anna@viva.de"]
    assert "Leider doch nicht gelöst." in notice.body
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN  # reopened quietly: no mail back
    assert notice.extra_headers["In-Reply-To"] == "<reply.1@customer.example>"


def test_customer_who_is_also_the_assignee_is_not_mailed_their_own_comment(agent):
    customer = factories.customer(email="anna@viva.de")
    ticket = factories.ticket(customer)
    tickets.assign(ticket, customer, by=agent)
    mail.outbox.clear()
    customer_comment(ticket)
    assert mail.outbox == []


def test_auto_close_mails_the_customer(agent, settings):
    ticket = en_ticket()
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    mail.outbox.clear()
    from datetime import timedelta

    settings.VIVADESK = {**settings.VIVADESK, "AUTO_CLOSE_AFTER": timedelta(0)}

    assert tasks.close_done_tickets() == 1

    (closed,) = mail.outbox
    assert closed.to == [CUSTOMER]
    assert closed.subject == f"[{ticket.reference}] Closed: Drucker druckt nicht"
    assert "closed for good" in closed.body
    assert "we will open a new request" in closed.body


def test_internal_note_mails_only_the_assignee(agent, other_agent):
    ticket = factories.ticket()
    tickets.assign(ticket, other_agent, by=agent)
    mail.outbox.clear()

    note(ticket, agent)

    (notice,) = mail.outbox
    assert notice.to == ["bernd@viva.de"]
    assert "Kunde ist VIP" in notice.body
    assert "anna" in notice.body  # who wrote it


def test_internal_note_is_not_mailed_to_its_author_or_the_customer(agent):
    ticket = factories.ticket()
    mail.outbox.clear()
    note(ticket, agent)  # unassigned: nobody
    tickets.assign(ticket, agent, by=agent)
    note(ticket, agent)  # own ticket: not to the author
    assert mail.outbox == []
    assert not OutboundEmail.objects.filter(event="staff_note").exists()


def test_note_text_never_reaches_the_customer(agent, other_agent):
    ticket = factories.ticket()
    tickets.assign(ticket, other_agent, by=agent)
    note(ticket, agent, body="GEHEIM: Kunde zahlt schlecht")
    staff_reply(ticket, agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    for message in mails_to(CUSTOMER):
        assert "GEHEIM" not in everything(message)


def test_customer_setting_done_themselves_gets_no_mail():
    ticket = factories.ticket()
    mail.outbox.clear()
    tickets.change_status(ticket, TicketStatus.DONE, by=ticket.customer)
    assert mails_to(CUSTOMER) == []


def test_unconfirmed_acknowledgement_has_only_the_reference():
    customer = factories.customer("neu@example.com", confirmed=False, name="Max Spam")
    ticket = factories.ticket(
        customer,
        subject="Billige Uhren http://spam.example",
        body="Kaufen Sie jetzt <a href='http://spam.example'>hier</a>!",
    )
    (ack,) = mails_to("neu@example.com")
    text = everything(ack)
    assert ticket.reference in ack.subject
    assert ticket.reference in ack.body
    for submitted in ("Billige", "Uhren", "spam.example", "Kaufen", "Max", "Spam"):
        assert submitted not in text, submitted
    # staff still see what was written
    (notice,) = mails_to(HELPDESK)
    assert "Kaufen Sie jetzt" in notice.body


def test_acknowledgement_of_a_post_not_signed_in_has_only_the_reference():
    """DESIGN.md decision 10: the address is a confirmed customer's, but the
    post was not signed in: nothing of it goes back out."""
    customer = factories.customer(language="en")
    ticket = factories.ticket(
        customer,
        language="en",
        subject="Billige Uhren http://spam.example",
        body="Kaufen Sie jetzt <a href='http://spam.example'>hier</a>!",
        sender_verified=False,
    )
    (ack,) = mails_to(CUSTOMER)
    text = everything(ack)
    assert ack.subject == f"[{ticket.reference}] We have received your request"
    assert ticket.reference in ack.body
    assert f"/en/helpdesk/requests/{ticket.reference}/" in ack.body
    for submitted in ("Billige", "Uhren", "spam.example", "Kaufen"):
        assert submitted not in text, submitted
    (notice,) = mails_to(HELPDESK)
    assert "Kaufen Sie jetzt" in notice.body


def test_mail_to_a_dead_address_is_not_written():
    customer = factories.customer()
    customer.helpdesk_profile.mail_undeliverable = True
    customer.helpdesk_profile.save()
    factories.ticket(customer)
    assert mails_to(CUSTOMER) == []
    assert len(mails_to(HELPDESK)) == 1


# --- language -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ticket_language", "customer_language", "expected"),
    [
        ("en", "de", "en"),
        ("de", "en", "de"),
        ("", "de", "de"),
        ("", "en", "en"),
        ("de-at", "", "de"),
        ("", "", "en"),
        ("xx", "", "en"),
        ("xx", "de", "de"),
    ],
)
def test_language_of_customer_mail(ticket_language, customer_language, expected):
    customer = factories.customer(language=customer_language)
    ticket = factories.ticket(customer, language=ticket_language)
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_created")
    assert row.language == expected
    assert row.state == OutboundState.SENT
    (ack,) = mails_to(CUSTOMER)
    assert f'<html lang="{expected}" dir="ltr"' in html_of(ack)


def test_unknown_language_falls_back_to_english_and_still_sends():
    customer = factories.customer(language="xx")
    factories.ticket(customer, language="xx")
    (ack,) = mails_to(CUSTOMER)
    assert '<html lang="en" dir="ltr"' in html_of(ack)
    assert "Thank you for your request" in ack.body


def test_row_with_a_language_the_site_no_longer_offers_is_sent_in_english():
    ticket = factories.ticket()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
        tickets.change_status(ticket, TicketStatus.DONE)
    row = OutboundEmail.objects.get(event="ticket_done")
    OutboundEmail.objects.filter(pk=row.pk).update(language="xx")
    mail.outbox.clear()
    assert tasks.send_outbound(row.pk) == "sent"
    (done,) = mail.outbox
    assert '<html lang="en" dir="ltr"' in html_of(done)  # not the site default (de)


def test_staff_mail_language(agent, other_agent):
    profile = UserProfile.get_for_user(other_agent)
    profile.preferred_language = "en"
    profile.save()
    ticket = factories.ticket()
    assert OutboundEmail.objects.get(event="staff_new_ticket").language == "de"
    tickets.assign(ticket, other_agent, by=agent)
    customer_comment(ticket)
    assert OutboundEmail.objects.get(event="customer_replied").language == "en"


def test_english_customer_gets_english_mail_for_every_event(agent, settings):
    """Every customer event rendered in English."""
    customer = factories.customer(language="en")
    ticket = factories.ticket(customer, language="en")
    staff_reply(ticket, agent)
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    from datetime import timedelta

    settings.VIVADESK = {**settings.VIVADESK, "AUTO_CLOSE_AFTER": timedelta(0)}
    tickets.close_done_tickets()

    got = by_event(mails_to(CUSTOMER))
    expected = {
        "ticket_created": "Thank you for your request",
        "staff_reply": "VIVA has answered your request",
        "status_changed": "We are waiting for your reply",
        "ticket_done": "If something is still open",
        "ticket_closed": "closed for good",
    }
    rows = OutboundEmail.objects.filter(recipient=CUSTOMER)
    assert {row.event for row in rows} == set(expected)
    for row in rows:
        message = got[row.event]
        assert expected[row.event] in message.body, row.event
        assert '<html lang="en" dir="ltr"' in html_of(message)


# --- German (WAITS ON locale/de) ------------------------------------------

#: English sentences of each event that must not survive in the German mail.
ENGLISH = {
    "ticket_created": ["Thank you for your request", "Your request:"],
    "staff_reply": ["VIVA has answered your request", "Status of your request"],
    "status_changed": ["has changed", "We are waiting for your reply"],
    "ticket_done": ["If something is still open", "Status of your request"],
    "ticket_closed": ["closed for good", "Closed:"],
    "staff_new_ticket": ["New request"],
    "customer_replied": ["Customer replied", "wrote on"],
    "staff_note": ["Internal note", "added an internal note"],
}
#: German words the customer guide prescribes (DESIGN.md).
GERMAN = {
    "status_changed": "Wartet auf Ihre Antwort",
    "ticket_done": "Fertig",
    "ticket_closed": "Geschlossen",
}


def _all_events_in(language: str, agent, other_agent, settings):
    from datetime import timedelta

    customer = factories.customer(language=language)
    ticket = factories.ticket(customer, language=language)
    for user in (agent, other_agent):
        profile = UserProfile.get_for_user(user)
        profile.preferred_language = language
        profile.save()
    staff_reply(ticket, agent)
    tickets.assign(ticket, other_agent, by=agent)
    note(ticket, agent)
    customer_comment(ticket)
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    settings.VIVADESK = {**settings.VIVADESK, "AUTO_CLOSE_AFTER": timedelta(0)}
    tickets.close_done_tickets()
    return by_event(mail.outbox)


def test_german_customer_gets_german_mail_for_every_event(agent, other_agent, settings):
    """WAITS ON locale/de: every event's mail in German, sent by the
    background task while the worker's own active language is English."""
    settings.LANGUAGE_CODE = "de"
    with translation.override("en"):
        mails = _all_events_in("de", agent, other_agent, settings)
    assert set(mails) == set(ENGLISH)
    for event, message in mails.items():
        text = everything(message)
        assert '<html lang="de" dir="ltr"' in html_of(message)
        for sentence in ENGLISH[event]:
            assert sentence not in text, (event, sentence)
        if event in GERMAN:
            assert GERMAN[event] in text, event


def test_german_done_subject_from_the_background_task(agent):
    """WAITS ON locale/de: the status word of the customer guide."""
    ticket = factories.ticket()  # customer and ticket in German
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
        tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    row = OutboundEmail.objects.get(event="ticket_done")
    mail.outbox.clear()
    with translation.override("en"):  # the worker's language is irrelevant
        assert tasks.send_outbound(row.pk) == "sent"
    (done,) = mail.outbox
    assert done.subject == f"[{ticket.reference}] Fertig: Drucker druckt nicht"


def test_rendering_is_inside_the_row_language():
    """The same row renders differently in English and German (the catalogue
    is used at render time, not at queue time). WAITS ON locale/de."""
    ticket = factories.ticket()
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_created")
    row.language = "en"
    english = outbound.render(row)
    row.language = "de"
    german = outbound.render(row)
    assert english.text != german.text
    # The ticket's own subject in both, then what happened in each language.
    assert english.subject != german.subject
    assert german.subject.startswith(f"[{ticket.reference}] Drucker druckt nicht – ")
    assert english.subject.startswith(f"[{ticket.reference}] Drucker druckt nicht – ")


def test_text_part_and_subject_are_not_html_escaped():
    customer = factories.customer("tom&jerry@example.com", language="en")
    ticket = factories.ticket(customer, language="en", subject='Fish & "Chips" <now>')
    (notice,) = mails_to(HELPDESK)
    assert "tom&jerry@example.com" in notice.body
    assert "&amp;" not in notice.body and "&quot;" not in notice.body
    assert "tom&amp;jerry@example.com" in html_of(notice)
    assert notice.subject.startswith(f"[{ticket.reference}] ")
    assert notice.subject.endswith(': Fish & "Chips" <now>')
    (ack,) = mails_to("tom&jerry@example.com")
    assert (
        ack.subject
        == f'[{ticket.reference}] Fish & "Chips" <now> – Your request has been received'
    )
