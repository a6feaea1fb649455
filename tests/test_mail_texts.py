"""What the notification mails say: a greeting by name, the request's own
subject in the mail subject, a link to the request, how long an activation
link works, a signature, and the staff notice's customer and form answers.

Tests marked ``WAITS ON locale/de`` in their docstring assert German text
from the German catalogue (``locale/de``), which the lead translates
centrally; they fail until the catalogue has these strings.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from tests import emails, factories
from tests.pages_support import post
from vivadesk_wagtail.mail import account_notifications
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.mail.notifications import validity
from vivadesk_wagtail.models import MessageKind, OutboundEmail, Ticket, TicketStatus
from vivadesk_wagtail.services import tickets

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

CUSTOMER = "kunde@example.com"
HELPDESK = "helpdesk@viva.de"
CUSTOMER_EVENTS = {
    "ticket_created",
    "staff_reply",
    "status_changed",
    "ticket_done",
    "ticket_closed",
}
#: Per language: the greetings, the closing and how the acknowledgement's
#: subject and the activation link's lifetime read.
TEXTS = {
    "de": {
        "hello_name": "Hallo Erika Mustermann,",
        "hello": "Guten Tag,",
        "team": "Ihr VIVA HelpDesk-Team",
        "regards": "Mit freundlichen Grüßen",
        "received": "Drucker druckt nicht – Ihre Anfrage ist eingegangen",
        "received_plain": "Wir haben Ihre Anfrage erhalten",
        "seven_days": "Der Link ist 7 Tage gültig.",
        "phone": "Telefon: +49 30 1234567",
        "email": "E-Mail: ",
    },
    "en": {
        "hello_name": "Hello Erika Mustermann,",
        "hello": "Hello,",
        "team": "Your VIVA HelpDesk team",
        "regards": "Kind regards",
        "received": "Drucker druckt nicht – Your request has been received",
        "received_plain": "We have received your request",
        "seven_days": "The link is valid for 7 days.",
        "phone": "Phone: +49 30 1234567",
        "email": "E-mail: ",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["de", "en"])


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def html_of(message) -> str:
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return html


def in_both_parts(message, text: str) -> bool:
    """``text`` is in the plain-text part and in the HTML part."""
    return text in message.body and text in html_of(message)


def everything(message) -> str:
    return "\n".join([message.subject, message.body, html_of(message)])


def by_event(messages) -> dict:
    rows = {row.message_id: row.event for row in OutboundEmail.objects.all()}
    return {rows[m.extra_headers["Message-ID"]]: m for m in messages}


def customer_mails(agent, settings, customer, language: str):
    """A ticket of ``customer`` taken through every event that mails them:
    the ticket and their mails by event."""
    ticket = factories.ticket(customer, language=language)
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Bitte starten Sie den Drucker neu.",
            kind=MessageKind.STAFF,
            author=agent,
        ),
    )
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    settings.VIVADESK = {**settings.VIVADESK, "AUTO_CLOSE_AFTER": timedelta(0)}
    tickets.close_done_tickets()
    mails = by_event(mails_to(customer.email))
    assert set(mails) == CUSTOMER_EVENTS
    return ticket, mails


@pytest.fixture
def phone(settings):
    settings.VIVADESK = {**settings.VIVADESK, "HELPDESK_PHONE": "+49 30 1234567"}


# --- 1. greeting --------------------------------------------------------------


@LANGUAGES
def test_every_customer_mail_greets_the_customer_by_full_name(
    agent, settings, language
):
    """WAITS ON locale/de (German)."""
    customer = factories.customer(language=language)
    _ticket, mails = customer_mails(agent, settings, customer, language)
    greeting = TEXTS[language]["hello_name"]
    for event, message in mails.items():
        assert message.body.startswith(greeting + "\n\n"), event
        assert f">{greeting}</p>" in html_of(message), event


@LANGUAGES
def test_a_customer_without_a_name_is_greeted_neutrally(agent, settings, language):
    """WAITS ON locale/de (German)."""
    customer = factories.customer(language=language, name="")
    _ticket, mails = customer_mails(agent, settings, customer, language)
    greeting = TEXTS[language]["hello"]
    for event, message in mails.items():
        assert message.body.startswith(greeting + "\n\n"), event
        assert f">{greeting}</p>" in html_of(message), event


@LANGUAGES
def test_an_unconfirmed_account_is_not_greeted_by_the_name_typed_in(language):
    """The name of an account nobody has confirmed is what a visitor typed
    into the form: it is never mailed back (DESIGN.md decision 10).
    WAITS ON locale/de (German)."""
    customer = factories.customer(
        "neu@example.com", confirmed=False, name="Max Spam", language=language
    )
    factories.ticket(customer, language=language)
    (ack,) = mails_to("neu@example.com")
    assert in_both_parts(ack, TEXTS[language]["hello"])
    assert "Max" not in everything(ack) and "Spam" not in everything(ack)


@LANGUAGES
def test_password_reset_greets_by_name_activation_does_not(language):
    """WAITS ON locale/de (German)."""
    confirmed = factories.customer(language=language)
    unconfirmed = factories.customer(
        "neu@example.com", confirmed=False, name="Max Spam", language=language
    )
    account_notifications.queue("password_reset", confirmed, language=language)
    account_notifications.queue("activation", unconfirmed, language=language)
    (reset,) = mails_to(CUSTOMER)
    (activation,) = mails_to("neu@example.com")
    assert reset.body.startswith(TEXTS[language]["hello_name"] + "\n\n")
    assert in_both_parts(reset, TEXTS[language]["hello_name"])
    assert activation.body.startswith(TEXTS[language]["hello"] + "\n\n")
    assert "Max" not in everything(activation)


def test_staff_notices_carry_no_greeting_and_no_signature(agent, other_agent):
    ticket = factories.ticket()
    tickets.assign(ticket, other_agent, by=agent)
    tickets.add_message(
        ticket,
        tickets.NewMessage(body="VIP.", kind=MessageKind.NOTE, author=agent),
    )
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Immer noch.", kind=MessageKind.CUSTOMER, author=ticket.customer
        ),
    )
    staff = by_event(m for m in mail.outbox if m.to != [CUSTOMER])
    assert set(staff) == {"staff_new_ticket", "staff_note", "customer_replied"}
    for event, message in staff.items():
        text = everything(message)
        for words in ("Hallo", "Hello", "Guten Tag", "Kind regards", "Grüßen"):
            assert words not in text, (event, words)


# --- 2. subjects ----------------------------------------------------------------


@LANGUAGES
def test_acknowledgement_subject_names_the_request(language):
    """WAITS ON locale/de (German)."""
    ticket = factories.ticket(factories.customer(language=language), language=language)
    (ack,) = mails_to(CUSTOMER)
    assert ack.subject == f"[{ticket.reference}] {TEXTS[language]['received']}"


def test_several_requests_differ_in_the_inbox(agent, settings):
    customer = factories.customer()
    first, first_mails = customer_mails(agent, settings, customer, "de")
    mail.outbox.clear()
    second = factories.ticket(customer, subject="Beamer flackert")
    tickets.add_message(
        second,
        tickets.NewMessage(body="Kabel?", kind=MessageKind.STAFF, author=agent),
    )
    second_mails = by_event(mails_to(CUSTOMER))
    for event, message in first_mails.items():
        assert message.subject.startswith(f"[{first.reference}] "), event
        assert "Drucker druckt nicht" in message.subject, event
    for event in ("ticket_created", "staff_reply"):
        assert second_mails[event].subject.startswith(f"[{second.reference}] ")
        assert "Beamer flackert" in second_mails[event].subject
        assert second_mails[event].subject != first_mails[event].subject


@LANGUAGES
def test_a_very_long_request_subject_is_cut_and_the_subject_still_reads(language):
    """WAITS ON locale/de (German)."""
    long_subject = "Drucker " + "sehr " * 60 + "kaputt"
    ticket = factories.ticket(
        factories.customer(language=language), language=language, subject=long_subject
    )
    (ack,) = mails_to(CUSTOMER)
    (notice,) = mails_to(HELPDESK)
    suffix = TEXTS[language]["received"].removeprefix("Drucker druckt nicht")
    for message in (ack, notice):
        assert message.subject.startswith(f"[{ticket.reference}] ")
        assert "Drucker sehr sehr" in message.subject
        assert "…" in message.subject and "kaputt" not in message.subject
        assert "\n" not in message.subject
        assert len(message.subject) < 130
    assert ack.subject.endswith(suffix)
    assert long_subject[:200] not in ack.subject
    # the staff notice's body still names it in full
    assert ticket.subject in notice.body


@LANGUAGES
def test_acknowledgement_of_a_post_not_signed_in_names_nothing_posted(language):
    """DESIGN.md decision 10: the subject is the plain acknowledgement, the
    body quotes nothing and greets without a name (not even the account's
    own, which a visitor may have typed too). WAITS ON locale/de (German)."""
    ticket = factories.ticket(
        factories.customer(language=language),
        language=language,
        subject="Billige Uhren http://spam.example",
        body="Kaufen Sie jetzt!",
        sender_verified=False,
    )
    (ack,) = mails_to(CUSTOMER)
    assert ack.subject == f"[{ticket.reference}] {TEXTS[language]['received_plain']}"
    for posted in ("Billige", "Uhren", "spam.example", "Kaufen", "Erika"):
        assert posted not in everything(ack), posted
    assert ack.body.startswith(TEXTS[language]["hello"] + "\n\n")
    assert in_both_parts(ack, TEXTS[language]["hello"])
    assert in_both_parts(ack, TEXTS[language]["team"])


def test_contact_form_post_not_signed_in_is_acknowledged_without_a_name(site):
    # Not the demo's "Erika Mustermann": she signs the demo's legal line.
    known = factories.customer(language="en", name="Greta Gründlich")
    post(
        Client(),
        "/en/contact/",
        email=known.email,
        name="Mallory Mailer",
        subject="Ihre Rechnung – bitte hier klicken",
    )
    ticket = Ticket.objects.get()
    (ack,) = mails_to(known.email)
    assert ack.subject == f"[{ticket.reference}] We have received your request"
    text = everything(ack)
    for posted in ("Mallory", "Greta", "Rechnung", "K-42", "Seit gestern"):
        assert posted not in text, posted
    assert ack.body.startswith("Hello,\n\n")
    assert in_both_parts(ack, "Your VIVA HelpDesk team")


@LANGUAGES
@pytest.mark.parametrize("prefix", ["Re: ", "AW: "])
def test_a_reply_to_the_acknowledgement_by_its_subject_joins_the_ticket(
    language, prefix
):
    """Matched by the subject alone (the reply names no Message-ID): the
    bracketed reference at the start of the new subject still finds it."""
    ticket = factories.ticket(factories.customer(language=language), language=language)
    (ack,) = mails_to(CUSTOMER)
    result = ingest(emails.build(subject=prefix + ack.subject, body="Danke!\n"))
    assert result.outcome == "reply", result
    assert result.ticket == ticket.reference


def test_a_reply_quoting_the_whole_mail_keeps_only_the_new_text():
    ticket = factories.ticket()
    (ack,) = mails_to(CUSTOMER)
    quoted = "\n".join("> " + line for line in ack.body.splitlines())
    body = (
        "Danke, jetzt geht es wieder.\n\n"
        "Am 26.11.2026 um 10:00 schrieb VIVA HelpDesk <helpdesk@viva.de>:\n"
        f"{quoted}\n"
    )
    in_reply_to = OutboundEmail.objects.get(event="ticket_created").message_id
    result = ingest(
        emails.build(subject="AW: " + ack.subject, body=body, in_reply_to=in_reply_to)
    )
    assert (result.outcome, result.ticket) == ("reply", ticket.reference)
    assert result.body == "Danke, jetzt geht es wieder."


def test_a_request_subject_naming_another_ticket_does_not_mislead_a_reply():
    older = factories.ticket()
    newer = factories.ticket(subject=f"Nachtrag zu [{older.reference}]")
    (ack,) = [
        m for m in mails_to(CUSTOMER) if m.subject.startswith(f"[{newer.reference}]")
    ]
    assert f"[{older.reference}]" in ack.subject
    result = ingest(emails.build(subject="Re: " + ack.subject, body="Noch etwas.\n"))
    assert (result.outcome, result.ticket) == ("reply", newer.reference)


def test_a_reply_to_a_cut_subject_joins_the_ticket():
    ticket = factories.ticket(subject="Drucker " + "sehr " * 60 + "kaputt")
    (ack,) = mails_to(CUSTOMER)
    result = ingest(emails.build(subject="Re: " + ack.subject, body="Hallo?\n"))
    assert (result.outcome, result.ticket) == ("reply", ticket.reference)


# --- 3. links and the activation link's lifetime -------------------------------


@LANGUAGES
def test_every_mail_of_a_confirmed_customer_links_to_the_request(
    agent, settings, language
):
    customer = factories.customer(language=language)
    ticket, mails = customer_mails(agent, settings, customer, language)
    link = f"/{language}/helpdesk/requests/{ticket.reference}/"
    for event, message in mails.items():
        assert link in message.body, event
        assert f'{link}">' in html_of(message), event


@LANGUAGES
def test_activation_mail_says_how_long_the_link_works(language):
    """WAITS ON locale/de (German)."""
    user = factories.customer("neu@example.com", confirmed=False, language=language)
    account_notifications.queue("activation", user, language=language)
    (activation,) = mails_to("neu@example.com")
    assert "/activate/" in activation.body
    assert in_both_parts(activation, TEXTS[language]["seven_days"])


@LANGUAGES
def test_acknowledgement_with_an_activation_link_says_how_long_it_works(language):
    """WAITS ON locale/de (German)."""
    user = factories.customer("neu@example.com", confirmed=False, language=language)
    factories.ticket(user, language=language)
    (ack,) = mails_to("neu@example.com")
    assert "/activate/" in ack.body
    assert in_both_parts(ack, TEXTS[language]["seven_days"])


@pytest.mark.parametrize(
    ("max_age", "english", "german"),
    [
        (timedelta(days=1), "valid for 1 day.", "Der Link ist 1 Tag gültig."),
        (timedelta(hours=36), "valid for 36 hours.", "Der Link ist 36 Stunden gültig."),
        (timedelta(minutes=30), "valid for 30 minutes.", "ist 30 Minuten gültig."),
    ],
)
def test_the_lifetime_follows_the_setting(settings, max_age, english, german):
    """WAITS ON locale/de (German)."""
    settings.VIVADESK = {**settings.VIVADESK, "ACTIVATION_MAX_AGE": max_age}
    for language, sentence in (("en", english), ("de", german)):
        user = factories.customer(
            f"neu-{language}@example.com", confirmed=False, language=language
        )
        account_notifications.queue("activation", user, language=language)
        (activation,) = mails_to(f"neu-{language}@example.com")
        assert in_both_parts(activation, sentence), language


@pytest.mark.parametrize(
    ("max_age", "expected"),
    [
        (timedelta(days=7), {"days": 7}),
        (timedelta(days=1), {"days": 1}),
        (timedelta(hours=36), {"hours": 36}),
        (timedelta(hours=1, minutes=59), {"hours": 1}),
        (timedelta(minutes=30), {"minutes": 30}),
        (timedelta(seconds=20), {"minutes": 1}),
    ],
)
def test_validity_never_promises_more_than_the_link_keeps(max_age, expected):
    assert validity(max_age) == expected


# --- 4. signature ----------------------------------------------------------------


@LANGUAGES
def test_every_customer_mail_is_signed_with_address_and_phone(
    agent, settings, phone, language
):
    """WAITS ON locale/de (German)."""
    customer = factories.customer(language=language)
    ticket, mails = customer_mails(agent, settings, customer, language)
    words = TEXTS[language]
    for event, message in mails.items():
        for text in (words["regards"], words["team"], words["email"] + HELPDESK):
            assert text in message.body, (event, text)
        assert words["phone"] in message.body, event
        html = html_of(message)
        assert f"{words['regards']}<br>{words['team']}" in html, event
        assert f'href="mailto:{HELPDESK}">{HELPDESK}</a>' in html, event
        assert 'href="tel:+49301234567">+49 30 1234567</a>' in html, event
        # after the content, before the ticket's footer
        body = message.body
        assert body.index(words["team"]) < body.index(f"Ticket {ticket.reference}.")


@LANGUAGES
def test_account_mails_are_signed_too(language, phone):
    """WAITS ON locale/de (German)."""
    user = factories.customer("neu@example.com", confirmed=False, language=language)
    account_notifications.queue("activation", user, language=language)
    (activation,) = mails_to("neu@example.com")
    assert in_both_parts(activation, TEXTS[language]["team"])
    assert TEXTS[language]["phone"] in activation.body


def test_signature_without_phone_names_the_configured_address(settings):
    settings.VIVADESK = {**settings.VIVADESK, "HELPDESK_EMAIL": "support@acme.example"}
    factories.ticket(factories.customer(language="en"), language="en")
    (ack,) = mails_to(CUSTOMER)
    assert "E-mail: support@acme.example" in ack.body
    assert 'href="mailto:support@acme.example">' in html_of(ack)
    assert "Phone:" not in everything(ack) and "tel:" not in html_of(ack)


# --- 5. the staff notice of a new ticket -----------------------------------------


def open_with_answers(customer, rows, **kwargs):
    return tickets.open_ticket(
        customer=customer,
        subject="Drucker druckt nicht",
        first=tickets.NewMessage(
            body="Seit gestern.", kind=MessageKind.CUSTOMER, author=customer
        ),
        language="de",
        form_data=rows,
        **kwargs,
    )


ROWS = [
    {"name": "customer_number", "label": "Kundennummer", "value": "K-42"},
    {"name": "device", "label": "Gerät", "value": "  "},
    {"name": "room", "label": "Raum", "value": "B 2.14"},
]


@LANGUAGES
def test_new_ticket_notice_names_the_customer_and_lists_the_answers(settings, language):
    """WAITS ON locale/de (German)."""
    settings.LANGUAGE_CODE = language  # the staff address's language
    customer = factories.customer(language="de")
    open_with_answers(customer, ROWS)
    (notice,) = mails_to(HELPDESK)
    labels = {"de": ("Name:", "Betreff:"), "en": ("Name:", "Subject:")}[language]
    assert f"{labels[0]} Erika Mustermann" in notice.body
    assert CUSTOMER in notice.body
    assert f"{labels[1]} Drucker druckt nicht" in notice.body
    assert "Kundennummer: K-42" in notice.body
    assert "Raum: B 2.14" in notice.body
    assert "Gerät" not in everything(notice)  # no value: left out
    html = html_of(notice)
    cells = r"</th><td [^>]*>"
    assert re.search(f"{labels[0]}{cells}Erika Mustermann</td>", html)
    assert re.search(f">Kundennummer:{cells}K-42</td>", html)
    assert re.search(f">Raum:{cells}B 2.14</td>", html)
    assert notice.body.index("K-42") < notice.body.index("Seit gestern.")


def test_new_ticket_notice_reads_the_answers_in_the_staff_language(site, settings):
    """The labels of the contact page's version in the staff language."""
    rows = [
        {
            "name": "customer_number",
            "label": "Customer number (if you have one)",
            "value": "K-7",
        }
    ]
    for language, label in (
        ("de", "Kundennummer (falls vorhanden)"),
        ("en", "Customer number (if you have one)"),
    ):
        settings.LANGUAGE_CODE = language
        mail.outbox.clear()
        open_with_answers(factories.customer(), rows, contact_page=site)
        (notice,) = mails_to(HELPDESK)
        assert f"{label}: K-7" in notice.body, language
        assert f">{label}:</th>" in html_of(notice), language


def test_new_ticket_notice_without_a_name_gives_the_address_alone():
    customer = factories.customer(name="")
    open_with_answers(customer, [])
    (notice,) = mails_to(HELPDESK)
    assert CUSTOMER in notice.body
    assert "Name:" not in everything(notice)
    assert "<table" in html_of(notice)
