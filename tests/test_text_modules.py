"""Text modules on the ticket screen: the modules offered per language (with
the English fallback), their placeholders filled, the agents-only endpoint
that inserts them, and their use counted once per sent reply."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import pgettext
from wagtail.models import Locale

from tests import factories
from tests.staff_support import post_action, screen_url, url
from vivadesk_wagtail.models import Category, TextModule, TicketMessage, TicketStatus
from vivadesk_wagtail.services import text_modules as service
from vivadesk_wagtail.services import tickets

pytestmark = pytest.mark.django_db

BASE = "https://hilfe.viva.example"
NEUTRAL = "text module placeholder without a name"
BODY_DE = (
    "Hallo {customer_name}, Ihre Anfrage {reference}: {portal_link} – {agent_name}"
)
BODY_EN = (
    "Hello {customer_name}, your request {reference}: {portal_link} – {agent_name}"
)


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.VIVADESK = {**settings.VIVADESK, "BASE_URL": BASE + "/"}


def locale(code: str) -> Locale:
    return Locale.objects.get_or_create(language_code=code)[0]


def module(title: str, body: str, code: str = "de", **kwargs) -> TextModule:
    found = TextModule(title=title, body=body, locale=locale(code), **kwargs)
    found.full_clean()
    found.save()
    return found


def translation_of(source: TextModule, code: str, title: str, body: str):
    copy = source.copy_for_translation(locale(code))
    copy.title, copy.body = title, body
    copy.full_clean()
    copy.save()
    return copy


def key() -> str:
    return uuid.uuid4().hex


def insert_url(ticket, found) -> str:
    return url("text_module", ticket.pk, found.pk)


# -- placeholders ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Kein Platzhalter.",
        BODY_DE,
        "Mengen: {{a, b}} und {reference}",
        "",
    ],
)
def test_fillable_texts_pass(body):
    service.check_placeholders(body)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("Hallo {kunde}!", "{kunde}"),
        ("{customer_name} {Reference} {ticket_id}", "{Reference}, {ticket_id}"),
        ("Nummer {reference:>9}", "{reference:>9}"),
        ("Name {customer_name!r}", "{customer_name!r}"),
        ("Leer {}", "{}"),
        ("Feld {customer_name.upper}", "{customer_name.upper}"),
        ("Index {reference[0]}", "{reference[0]}"),
    ],
)
def test_unknown_or_malformed_placeholders_are_refused_by_name(body, named):
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            service.check_placeholders(body)
        message = refused.value.messages[0]
    assert named in message
    assert "{customer_name}, {reference}, {agent_name}, {portal_link}" in message


@pytest.mark.parametrize("body", ["Menge {a", "Klammer } zu", "{reference", "x}"])
def test_a_single_brace_is_refused(body):
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            service.check_placeholders(body)
        message = refused.value.messages[0]
    assert "written twice: {{ or }}" in message


def test_the_model_refuses_a_broken_body_on_the_body_field():
    broken = TextModule(title="Kaputt", body="Hallo {kunde}", locale=locale("de"))
    with pytest.raises(ValidationError) as refused:
        broken.full_clean()
    assert "{kunde}" in " ".join(refused.value.message_dict["body"])


# -- which modules, in which language -------------------------------------------


def test_a_ticket_gets_its_language_else_english_else_the_default(ticket):
    both = module("Gruß", BODY_DE)
    both_en = translation_of(both, "en", "Greeting", BODY_EN)
    only_en = module("Only English", BODY_EN, "en")
    only_de = module("Nur Deutsch", BODY_DE)
    german = service.for_ticket(ticket)
    assert {m.pk for m in german} == {both.pk, only_en.pk, only_de.pk}
    english_ticket = factories.ticket(ticket.customer, language="en")
    # The customer's profile prefers German; the ticket's language decides.
    english = service.for_ticket(english_ticket)
    assert {m.pk for m in english} == {both_en.pk, only_en.pk, only_de.pk}


def test_modules_of_the_ticket_category_come_first(ticket):
    printers = Category.objects.create(name="Drucker")
    module("A allgemein", "a")
    module("Z Drucker", "z", category=printers)
    module("B Bildschirm", "b", category=Category.objects.create(name="Bildschirm"))
    assert [m.title for m in service.for_ticket(ticket)][0] == "A allgemein"
    tickets.set_category(ticket, printers, by=None)
    ticket.refresh_from_db()
    assert [m.title for m in service.for_ticket(ticket)] == [
        "Z Drucker",
        "A allgemein",
        "B Bildschirm",
    ]


def test_placeholders_are_filled_for_a_german_ticket(ticket, agent):
    found = module("Gruß", BODY_DE)
    text = service.render(found, ticket, agent)
    assert text == (
        f"Hallo Erika Mustermann, Ihre Anfrage {ticket.reference}: "
        f"{BASE}/de/helpdesk/requests/{ticket.reference}/ – Anna Agent"
    )


def test_an_english_ticket_gets_the_english_text_and_link(agent):
    customer = factories.customer("jane@example.com", language="en", name="Jane Doe")
    english_ticket = factories.ticket(customer, language="en")
    source = module("Gruß", BODY_DE)
    english = translation_of(source, "en", "Greeting", BODY_EN)
    assert service.offered(english_ticket, source.pk) is None
    chosen = service.offered(english_ticket, english.pk)
    assert service.render(chosen, english_ticket, agent) == (
        f"Hello Jane Doe, your request {english_ticket.reference}: "
        f"{BASE}/en/helpdesk/requests/{english_ticket.reference}/ – Anna Agent"
    )


def test_without_a_confirmed_name_the_customer_is_addressed_neutrally(agent):
    """A name typed into a contact form by somebody not signed in is never
    mailed back out (DESIGN.md decision 10)."""
    unconfirmed = factories.customer("neu@example.com", confirmed=False, name="Mallory")
    fresh = factories.ticket(unconfirmed)
    found = module("Gruß", "Hallo {customer_name}!")
    with translation.override("de"):
        neutral_de = pgettext(NEUTRAL, "dear customer")
    assert service.render(found, fresh, agent) == f"Hallo {neutral_de}!"
    nameless = factories.customer("ohne@example.com", name="")
    english = module("Hi", "Hello {customer_name}!", "en")
    assert service.render(english, factories.ticket(nameless), agent) == (
        "Hello dear customer!"
    )


def test_the_agent_is_named_by_username_without_a_full_name(ticket):
    plain = factories.StaffFactory(username="hkoch")
    assert service.render(module("Name", "{agent_name}"), ticket, plain) == "hkoch"


def test_filled_values_are_not_read_as_placeholders(agent):
    tricky = factories.customer("t@example.com", name="{reference} {{x}")
    found = module("Gruß", "{customer_name} / {{literal}}")
    assert service.render(found, factories.ticket(tricky), agent) == (
        "{reference} {{x} / {literal}"
    )


def test_a_broken_body_saved_past_the_check_still_renders(ticket, agent):
    """Rows written without ``full_clean`` (a data migration, the shell)
    must never break the ticket screen or the insert."""
    broken = TextModule.objects.create(
        title="Kaputt", body="Hallo {customer_name}, {kunde} {", locale=locale("de")
    )
    assert service.render(broken, ticket, agent) == "Hallo Erika Mustermann, {kunde} {"
    spec = TextModule.objects.create(
        title="Format", body="{reference:>20}{agent_name}", locale=locale("de")
    )
    assert service.render(spec, ticket, agent) == "{reference:>20}Anna Agent"


# -- the ticket screen and the inserting endpoint --------------------------------


def test_the_reply_box_offers_the_modules(agent_client, ticket):
    module("Rückruf", "Wir rufen Sie an, {customer_name}.")
    module("Only English", BODY_EN, "en")
    response = agent_client.get(screen_url(ticket))
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-vd-text-modules" in html
    assert "Rückruf" in html and "Only English" in html
    assert 'name="reply-text_modules"' in html
    assert "vivadesk_wagtail/js/text_modules.js" in html
    assert "<script>" not in html.split('id="vd-reply"')[1].split("</section>")[0]


def test_the_screen_survives_a_broken_module(agent_client, ticket):
    TextModule.objects.create(title="Kaputt", body="{ {kunde", locale=locale("de"))
    assert agent_client.get(screen_url(ticket)).status_code == 200


def test_the_endpoint_returns_the_filled_text_to_an_agent(agent_client, ticket):
    found = module("Gruß", BODY_DE)
    response = agent_client.get(insert_url(ticket, found))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["id"] == found.pk
    assert data["text"].startswith("Hallo Erika Mustermann, Ihre Anfrage ")
    found.refresh_from_db()
    assert found.usage_count == 0, "inserting is not using: the reply may be dropped"


def test_the_endpoint_refuses_everybody_but_agents(client, editor, ticket):
    found = module("Gruß", BODY_DE)
    address = insert_url(ticket, found)
    customer = ticket.customer
    for user in (editor, customer, None):
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(address)
        assert response.status_code in (302, 403), user
        assert b"Erika" not in response.content
        if response.status_code == 302:
            assert "/admin/login/" in response["Location"] or response[
                "Location"
            ].rstrip("/").endswith("/admin")


def test_the_endpoint_answers_404_for_unknown_tickets_and_modules(agent_client, ticket):
    found = module("Gruß", BODY_DE)
    assert agent_client.get(url("text_module", 999999, found.pk)).status_code == 404
    assert agent_client.get(url("text_module", ticket.pk, 999999)).status_code == 404
    french = module("Bonjour", "Bonjour", "fr")
    assert agent_client.get(insert_url(ticket, french)).status_code == 404


def test_the_endpoint_only_answers_get(agent_client, ticket):
    found = module("Gruß", BODY_DE)
    assert agent_client.post(insert_url(ticket, found)).status_code == 405


# -- usage: counted when the reply is sent ---------------------------------------


def reply(client, ticket, idempotency_key, text_modules, body="Antwort"):
    return post_action(
        client,
        ticket,
        "reply",
        body=body,
        idempotency_key=idempotency_key,
        text_modules=text_modules,
    )


def counts(*modules):
    return [TextModule.objects.get(pk=m.pk).usage_count for m in modules]


def test_a_sent_reply_counts_each_module_once(agent_client, ticket):
    first, second, unused = module("A", "a"), module("B", "b"), module("C", "c")
    response = reply(
        agent_client, ticket, key(), f"{first.pk},{second.pk},{first.pk},999999,x,²"
    )
    assert response.status_code == 302
    assert counts(first, second, unused) == [1, 1, 0]
    assert TextModule.objects.get(pk=first.pk).last_used_at is not None
    assert TextModule.objects.get(pk=unused.pk).last_used_at is None


def test_a_double_submit_counts_once(agent_client, ticket):
    used = module("A", "a")
    same = key()
    assert reply(agent_client, ticket, same, str(used.pk)).status_code == 302
    assert reply(agent_client, ticket, same, str(used.pk)).status_code == 302
    assert TicketMessage.objects.filter(ticket=ticket, body="Antwort").count() == 1
    assert counts(used) == [1]
    assert reply(agent_client, ticket, key(), str(used.pk)).status_code == 302
    assert counts(used) == [2]


def test_a_double_submit_racing_into_the_database_counts_once(
    agent_client, ticket, monkeypatch
):
    """The second of two simultaneous submits does not see the first's
    message yet: its insert fails on the idempotency key, and the screen
    reports success without counting again."""
    used = module("A", "a")
    same = key()
    assert reply(agent_client, ticket, same, str(used.pk)).status_code == 302
    monkeypatch.setattr(tickets, "_existing_message", lambda new: None)
    assert reply(agent_client, ticket, same, str(used.pk)).status_code == 302
    assert TicketMessage.objects.filter(ticket=ticket, body="Antwort").count() == 1
    assert counts(used) == [1]


def test_count_sent_skips_a_message_written_before_the_call(ticket):
    used = module("A", "a")
    earlier = TicketMessage.objects.filter(ticket=ticket).first()
    assert service.count_sent([used.pk], earlier, timezone.now()) == 0
    assert service.count_sent([used.pk], earlier, earlier.created_at) == 1
    assert counts(used) == [1]


def test_a_refused_reply_counts_nothing(agent_client, ticket):
    used = module("A", "a")
    tickets.change_status(ticket, TicketStatus.DONE, by=None)
    tickets.change_status(ticket, TicketStatus.CLOSED, by=None)
    response = reply(agent_client, ticket, key(), str(used.pk))
    assert response.status_code == 200
    assert counts(used) == [0]


def test_an_invalid_reply_counts_nothing(agent_client, ticket):
    used = module("A", "a")
    assert reply(agent_client, ticket, key(), str(used.pk), body="").status_code == 200
    assert counts(used) == [0]


def test_count_use_skips_deleted_modules_and_updates_in_one_statement(
    django_assert_num_queries,
):
    kept, gone = module("A", "a"), module("B", "b")
    gone_pk = gone.pk
    gone.delete()
    with django_assert_num_queries(1):
        assert service.count_use([kept.pk, gone_pk]) == 1
    assert service.count_use([]) == 0
    assert counts(kept) == [1]


def test_a_new_translation_starts_unused(ticket):
    source = module("Gruß", BODY_DE)
    service.count_use([source.pk])
    english = translation_of(source, "en", "Greeting", BODY_EN)
    assert (english.usage_count, english.last_used_at) == (0, None)


def test_the_placeholders_are_the_four_of_the_issue():
    assert set(service.PLACEHOLDERS) == {
        "customer_name",
        "reference",
        "agent_name",
        "portal_link",
    }
