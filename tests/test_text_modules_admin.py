"""Text modules as snippets: editors and moderators write and translate them
(wagtail-localize), agents read them, nobody saves a body whose
placeholders cannot be filled — neither in the editor nor in a translation."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from wagtail.models import Locale
from wagtail.users.models import UserProfile
from wagtail_localize.models import (
    StringSegment,
    StringTranslation,
    Translation,
    TranslationSource,
)

from tests import factories
from tests.staff_support import assert_denied, group
from tests.text_modules_support import WRITE
from vivadesk_wagtail.models import Category, TextModule

pytestmark = pytest.mark.django_db

NS = "wagtailsnippets_vivadesk_wagtail_textmodule"


def locale(code: str) -> Locale:
    return Locale.objects.get_or_create(language_code=code)[0]


def in_english(user):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    return user


@pytest.fixture
def writer(db):
    """A member of Wagtail's "Editors" group (which migration 0020 lets
    write text modules), not a help-desk agent."""
    user = factories.StaffFactory(username="texter")
    user.groups.add(group("Editors", *WRITE))
    return in_english(user)


@pytest.fixture
def writer_client(client, writer):
    client.force_login(writer)
    return client


def add(client, code="de", **data):
    fields = {"title": "Rückruf", "body": "Hallo {customer_name}", "category": ""}
    fields.update(data)
    return client.post(f"{reverse(f'{NS}:add')}?locale={code}", fields)


def test_an_editor_writes_a_module(writer_client):
    printers = Category.objects.create(name="Drucker")
    response = add(writer_client, category=str(printers.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    found = TextModule.objects.get()
    assert (found.title, found.body, found.category) == (
        "Rückruf",
        "Hallo {customer_name}",
        printers,
    )
    assert found.locale.language_code == "de"
    assert (found.usage_count, found.last_used_at) == (0, None)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("Hallo {kunde}", "{kunde}"),
        ("Hallo {customer_name", "{{ or }}"),
        ("Nummer {reference:>9}", "{reference:&gt;9}"),
    ],
)
def test_a_broken_placeholder_is_refused_with_the_error(writer_client, body, shown):
    response = add(writer_client, body=body)
    assert response.status_code == 200
    html = response.content.decode()
    assert shown in html
    assert "{customer_name}, {reference}, {agent_name}, {portal_link}" in html or (
        "written twice" in html
    )
    assert not TextModule.objects.exists()


def test_the_edit_form_refuses_a_broken_placeholder_too(writer_client):
    found = TextModule.objects.create(title="A", body="ok", locale=locale("de"))
    edit = reverse(f"{NS}:edit", args=[found.pk])
    response = writer_client.post(edit, {"title": "A", "body": "{x}", "category": ""})
    assert response.status_code == 200
    assert "{x}" in response.content.decode()
    found.refresh_from_db()
    assert found.body == "ok"


def test_the_form_lists_the_placeholders(writer_client):
    html = writer_client.get(f"{reverse(f'{NS}:add')}?locale=de").content.decode()
    for name in ("customer_name", "reference", "agent_name", "portal_link"):
        assert f"{{{name}}}" in html


def test_the_listing_shows_title_category_language_uses_and_last_use(writer_client):
    locale("en")
    TextModule.objects.create(
        title="Rückruf",
        body="x",
        locale=locale("de"),
        category=Category.objects.create(name="Drucker"),
        usage_count=7,
    )
    html = writer_client.get(reverse(f"{NS}:list")).content.decode()
    for heading in ("Title", "Category", "Language", "Times used", "Last used"):
        assert heading in html, heading
    for cell in ("Rückruf", "Drucker", "German"):
        assert cell in html, cell
    assert re.search(r"<td[^>]*>\s*7\s*</td>", html)


def test_editors_find_it_under_snippets(writer_client):
    html = writer_client.get(reverse("wagtailsnippets:index")).content.decode()
    assert reverse(f"{NS}:list") in html


def test_an_editor_translates_a_module_into_english(writer_client, writer):
    english = locale("en")
    source = TextModule.objects.create(
        title="Rückruf", body="Wir rufen Sie an, {customer_name}.", locale=locale("de")
    )
    submit = reverse(
        "wagtail_localize:submit_snippet_translation",
        args=["vivadesk_wagtail", "textmodule", source.pk],
    )
    assert writer_client.get(submit).status_code == 200
    response = writer_client.post(submit, {"locales": [english.pk]})
    assert response.status_code == 302, response.content.decode()[:3000]
    copy = TextModule.objects.get(locale=english)
    assert copy.translation_key == source.translation_key
    # The English version opens in wagtail-localize's translation editor.
    editor_page = writer_client.get(reverse(f"{NS}:edit", args=[copy.pk]))
    assert editor_page.status_code == 200
    assert "translation" in editor_page.content.decode().lower()
    # The translator's text is saved as the English version.
    translation_source = TranslationSource.objects.get_for_instance(source)
    translate(translation_source, english, "We will call you, {customer_name}.")
    translation_source.create_or_update_translation(english, user=writer)
    copy.refresh_from_db()
    assert copy.body == "We will call you, {customer_name}."


def translate(source, english, body: str, title: str = "Call back") -> None:
    for segment in StringSegment.objects.filter(source=source).select_related(
        "string", "context"
    ):
        data = body if segment.context.path == "body" else title
        StringTranslation.objects.update_or_create(
            translation_of=segment.string,
            locale=english,
            context=segment.context,
            defaults={"data": data},
        )


def test_a_translation_with_a_broken_placeholder_is_not_saved(writer):
    english = locale("en")
    source = TextModule.objects.create(
        title="Rückruf", body="Wir rufen Sie an, {customer_name}.", locale=locale("de")
    )
    translation_source, _created = TranslationSource.get_or_create_from_instance(source)
    Translation.objects.create(
        source=translation_source, target_locale=english, enabled=True
    )
    translate(translation_source, english, "We will call you, {name}.")
    with pytest.raises(ValidationError):
        translation_source.create_or_update_translation(english, user=writer)
    assert not TextModule.objects.filter(locale=english).exists()
    # wagtail-localize shows the error at the translated string.
    errored = StringTranslation.objects.get(locale=english, context__path="body")
    assert errored.has_error
    assert "{name}" in errored.field_error


def test_agents_read_but_do_not_write(client, agent):
    found = TextModule.objects.create(title="A", body="a", locale=locale("de"))
    client.force_login(agent)
    assert client.get(reverse(f"{NS}:list")).status_code == 200
    for address in (
        reverse(f"{NS}:add"),
        reverse(f"{NS}:edit", args=[found.pk]),
        reverse(f"{NS}:delete", args=[found.pk]),
    ):
        assert_denied(client.get(address), address)
    assert_denied(add(client), "add")
    assert TextModule.objects.count() == 1


def test_customers_and_visitors_never_reach_the_snippets(client, ticket):
    listing = reverse(f"{NS}:list")
    response = client.get(listing)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    client.force_login(ticket.customer)
    assert client.get(listing).status_code in (302, 403)


def test_moderators_write_too(client):
    user = factories.StaffFactory(username="moderator")
    user.groups.add(group("Moderators", *WRITE))
    client.force_login(in_english(user))
    assert add(client).status_code == 302
    assert TextModule.objects.count() == 1


def test_no_text_module_route_shows_an_editor_a_ticket(writer_client, agent):
    """Text modules are not customer data, but nothing of a ticket they were
    used on may reach a non-agent through their routes; the filled text
    comes only from the agents' endpoint."""
    customer = factories.customer("geheim@example.com", name="Gundula Geheim")
    ticket = factories.ticket(customer, subject="Geheimer Betreff")
    found = TextModule.objects.create(
        title="Gruß", body="Hallo {customer_name}", locale=locale("de")
    )
    filled = reverse(
        "wagtailsnippets_vivadesk_wagtail_ticket:text_module",
        args=[ticket.pk, found.pk],
    )
    agent_client = Client()
    agent_client.force_login(agent)
    assert b"Gundula Geheim" in agent_client.get(filled).content
    addresses = [
        reverse(f"{NS}:{name}", args=[found.pk])
        for name in ("edit", "usage", "history", "copy", "delete")
    ]
    addresses += [reverse(f"{NS}:list"), reverse(f"{NS}:list_results")]
    choosers = "wagtailsnippetchoosers_vivadesk_wagtail_textmodule"
    addresses += [
        reverse(f"{choosers}:choose"),
        reverse(f"{choosers}:choose_results") + "?q=Gruß",
        reverse(f"{choosers}:chosen", args=[found.pk]),
        "/admin/localize/api/snippets/vivadesk_wagtail/textmodule/",
    ]
    for address in addresses:
        response = writer_client.get(address)
        assert response.status_code == 200, address
        body = response.content.decode()
        for secret in ("Gundula", "geheim@example.com", "Geheimer Betreff"):
            assert secret not in body, (address, secret)
    assert_denied(writer_client.get(filled), filled)
