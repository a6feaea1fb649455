"""Text modules in a real browser (Chromium via Playwright): an agent opens a
ticket, finds a module in the reply box, inserts it at the cursor with its
placeholders filled in the ticket's language, and sends the reply, which
counts the module once. German and English, desktop and phone; each step
leaves a screenshot in ``test-artifacts/e2e/``."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from playwright.sync_api import expect
from wagtail.models import Locale

from tests import factories, staff_support
from tests.e2e import admin_support
from tests.e2e.conftest import VIEWPORTS, assert_no_sideways_scrolling
from tests.text_modules_support import WRITE
from vivadesk_wagtail.models import MessageKind, TextModule, TicketMessage

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

BODY = {
    "de": "Guten Tag {customer_name}, wir rufen Sie zu {reference} an. {agent_name}",
    "en": "Hello {customer_name}, we will call you about {reference}. {agent_name}",
}
TITLE = {"de": "Rückruf zusagen", "en": "Promise a call back"}
SEARCH = {"de": "rückruf", "en": "call"}
SEND = {"de": "Antwort senden", "en": "Send reply"}


def locale(code: str) -> Locale:
    return Locale.objects.get_or_create(language_code=code)[0]


def modules() -> TextModule:
    """The call-back module in German and English, and two others."""
    german = TextModule(title=TITLE["de"], body=BODY["de"], locale=locale("de"))
    german.full_clean()
    german.save()
    english = german.copy_for_translation(locale("en"))
    english.title, english.body = TITLE["en"], BODY["en"]
    english.save()
    TextModule.objects.create(
        title="Passwort zurücksetzen",
        body="Bitte nutzen Sie {portal_link}.",
        locale=locale("de"),
    )
    TextModule.objects.create(
        title="Only in English", body="Thanks!", locale=locale("en")
    )
    return german


@pytest.mark.parametrize("language", ["de", "en"])
def test_agent_inserts_a_text_module_and_sends_it(
    live_server, new_page, shot, check_a11y, language
):
    customer = factories.customer(
        f"kunde-{language}@example.com", language=language, name="Erika Mustermann"
    )
    ticket = factories.ticket(customer, language=language)
    german = modules()
    chosen = TextModule.objects.get(
        translation_key=german.translation_key, locale=locale(language)
    )
    page = new_page("de-DE")
    agent = admin_support.staff("agent", language, first_name="Anna", last_name="Agent")
    admin_support.log_in(page, live_server, agent)
    page.goto(live_server.url + staff_support.screen_url(ticket))
    expect(page.locator("html")).to_have_attribute("lang", language)

    reply = page.locator("#id_reply-body")
    reply.fill("Vorab: danke.\n")
    reply.press("End")
    picker = page.locator("[data-vd-text-modules]")
    picker.locator("summary").click()
    search = picker.locator("input[type=search]")
    expect(search).to_be_focused()
    search.fill(SEARCH[language])
    visible = picker.locator(".vd-text-modules__item:not([hidden])")
    expect(visible).to_have_count(1)
    expect(visible).to_contain_text(TITLE[language])
    shot(page, f"picker-{language}")
    check_a11y(page, f"ticket screen with the picker ({language})")

    visible.locator("button").click()
    filled = {
        "de": f"Guten Tag Erika Mustermann, wir rufen Sie zu {ticket.reference} an. "
        "Anna Agent",
        "en": f"Hello Erika Mustermann, we will call you about {ticket.reference}. "
        "Anna Agent",
    }[language]
    expect(reply).to_have_value("Vorab: danke.\n" + filled)
    expect(reply).to_be_focused()
    expect(page.locator("input[name=reply-text_modules]")).to_have_value(str(chosen.pk))
    expect(picker).not_to_have_attribute("open", "")
    shot(page, f"inserted-{language}")
    assert TextModule.objects.get(pk=chosen.pk).usage_count == 0

    page.set_viewport_size(VIEWPORTS["phone"])
    picker.locator("summary").click()
    search.fill("")
    assert_no_sideways_scrolling(page, f"ticket screen at 375 px ({language})")
    picker.scroll_into_view_if_needed()
    shot(page, f"phone-{language}")
    picker.locator("summary").click()

    with page.expect_navigation():
        page.locator("button", has_text=SEND[language]).first.click()
    sent = TicketMessage.objects.get(ticket=ticket, kind=MessageKind.STAFF)
    assert sent.body.replace("\r\n", "\n") == "Vorab: danke.\n" + filled
    counted = TextModule.objects.get(pk=chosen.pk)
    assert counted.usage_count == 1 and counted.last_used_at is not None
    assert TextModule.objects.filter(usage_count__gt=0).count() == 1
    shot(page, f"sent-{language}")


SAVE = {"de": "Speichern", "en": "Save"}


def submit_translation_permission() -> None:
    """wagtail-localize's permission, created by its migration (a
    transactional test's flush removes it)."""
    content_type, _created = ContentType.objects.get_or_create(
        app_label="wagtail_localize", model="translation"
    )
    Permission.objects.get_or_create(
        content_type=content_type,
        codename="submit_translation",
        defaults={"name": "Can submit translations"},
    )


@pytest.mark.parametrize("language", ["de", "en"])
def test_editor_writes_and_translates_a_text_module(
    live_server, new_page, shot, language
):
    locale("de")
    english = locale("en")
    submit_translation_permission()
    editor = admin_support.staff(
        "editor",
        language,
        first_name="Emil",
        groups=[staff_support.group("Editors", *WRITE)],
    )
    page = new_page("de-DE")
    admin_support.log_in(page, live_server, editor)

    listing = f"{live_server.url}/admin/snippets/vivadesk_wagtail/textmodule/"
    page.goto(f"{listing}add/?locale=de")
    page.fill("#id_title", TITLE["de"])
    page.fill("#id_body", "Guten Tag {kunde}, wir rufen Sie an.")
    page.locator("button[type=submit]", has_text=SAVE[language]).first.click()
    expect(page.locator("main")).to_contain_text("{kunde}")
    assert not TextModule.objects.exists()
    assert_no_sideways_scrolling(page, "refused text module")
    shot(page, f"refused-{language}")

    page.fill("#id_body", BODY["de"])
    page.locator("button[type=submit]", has_text=SAVE[language]).first.click()
    expect(page).to_have_url(re.compile(r"/textmodule/(\?.*)?$"))
    source = TextModule.objects.get()
    expect(page.locator("main tbody")).to_contain_text(TITLE["de"])
    shot(page, f"listing-{language}")
    page.set_viewport_size(VIEWPORTS["phone"])
    page.reload()
    expect(page.locator("main tbody")).to_contain_text(TITLE["de"])
    assert_no_sideways_scrolling(page, "text module listing at 375 px")
    shot(page, f"listing-phone-{language}")
    page.set_viewport_size(VIEWPORTS["desktop"])

    page.goto(
        f"{live_server.url}/admin/localize/submit/snippet/vivadesk_wagtail/"
        f"textmodule/{source.pk}/"
    )
    page.locator(f"input[name=locales][value='{english.pk}']").check()
    page.locator("main input[type=submit]").click()
    copy = TextModule.objects.get(locale=english)
    assert copy.translation_key == source.translation_key
    expect(page).to_have_url(re.compile(rf"/textmodule/edit/{copy.pk}/"))
    expect(page.locator("main")).to_contain_text(TITLE["de"])
    shot(page, f"translation-editor-{language}")
