"""The contact page's privacy notice: small print above the send button, in
the page's language after translation, with its links resolved; nothing
when the editors leave it empty."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from wagtail.models import Locale, Page
from wagtail_localize.models import StringSegment, Translation, TranslationSource

from vivadesk_wagtail.models import ContactPage

pytestmark = pytest.mark.django_db

NOTICE_DE = "Wir speichern Ihre Angaben nur zur Bearbeitung Ihrer Anfrage."
LINK_DE = "Datenschutzerklärung"
NOTICE_EN = "We store your details only to handle your request."
LINK_EN = "privacy policy"
#: The notice's paragraph as wagtail-localize extracts it: one segment, the
#: link's attributes kept out of the translator's text.
SEGMENT_DE = f'{NOTICE_DE} Mehr in unserer <a id="a1">{LINK_DE}</a>.'
ENGLISH = {
    SEGMENT_DE: f'{NOTICE_EN} More in our <a id="a1">{LINK_EN}</a>.',
    "Datenschutzhinweise": "Privacy notes",
    "datenschutzhinweise": "privacy-notes",
}


def translate(page: Page, strings: dict[str, str]) -> Page:
    """Translate ``page`` into English through wagtail-localize, as a
    translator in the translation editor would."""
    english = Locale.objects.get(language_code="en")
    source, _created = TranslationSource.get_or_create_from_instance(page)
    source.update_from_db()
    translation, _created = Translation.objects.get_or_create(
        source=source, target_locale=english, defaults={"enabled": True}
    )
    po = translation.export_po()
    for entry in po:
        if entry.msgid in strings:  # the others keep their translations
            entry.msgstr = strings[entry.msgid]
    translation.import_po(po)
    translation.save_target(publish=True)
    target = page.get_translation(english).specific
    # A new translation starts as a draft (settings): publish it and the
    # English pages above it.
    for ancestor in target.get_ancestors(inclusive=True).filter(depth__gt=1):
        if not ancestor.live or ancestor.has_unpublished_changes:
            ancestor.specific.latest_revision.publish()
    return target


@pytest.fixture
def privacy_page(site):
    """A German privacy policy page beside the contact page, translated."""
    home = site.get_parent().specific
    page = Page(
        title="Datenschutzhinweise", slug="datenschutzhinweise", locale=home.locale
    )
    home.add_child(instance=page)
    page.save_revision().publish()
    translate(page, ENGLISH)
    return page


def with_notice(contact: ContactPage, privacy: Page) -> ContactPage:
    contact.privacy_notice = (
        f"<p>{NOTICE_DE} Mehr in unserer "
        f'<a linktype="page" id="{privacy.pk}">{LINK_DE}</a>.</p>'
    )
    contact.save_revision().publish()
    translate(contact, ENGLISH)
    return ContactPage.objects.get(pk=contact.pk)


def notice(html: str) -> str:
    """The notice's block, checked to lie inside the form, before the send
    button."""
    match = re.search(r'<div class="vivadesk-privacy-notice">(.*?)</div>', html, re.S)
    assert match, "no privacy notice on the page"
    form_start = html.index('<form method="post"')
    button = html.index('<button type="submit"', form_start)
    assert form_start < match.start() < button
    return match.group(1)


def test_the_notice_is_shown_above_the_send_button_in_german(
    site, privacy_page, client
):
    with_notice(site, privacy_page)
    shown = notice(client.get("/de/kontakt/").content.decode())
    assert NOTICE_DE in shown
    assert f'<a href="/de/datenschutzhinweise/">{LINK_DE}</a>' in shown


def test_the_translation_carries_the_notice_and_links_the_english_page(
    site, privacy_page, client
):
    with_notice(site, privacy_page)
    segments = StringSegment.objects.filter(source__object_id=site.translation_key)
    paths = {
        segment.string.data: segment.context.path
        for segment in segments.select_related("string", "context")
    }
    assert paths[SEGMENT_DE].startswith("privacy_notice")

    shown = notice(client.get("/en/contact/").content.decode())
    assert NOTICE_EN in shown
    assert NOTICE_DE not in shown
    assert f'<a href="/en/privacy-notes/">{LINK_EN}</a>' in shown


def test_nothing_is_shown_when_the_notice_is_empty(site, client):
    site.privacy_notice = ""
    site.save_revision().publish()
    translate(site, {})
    for url in ("/de/kontakt/", "/en/contact/"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<form" in html
        assert "vivadesk-privacy-notice" not in html


def test_the_editor_has_the_field_with_bold_italic_and_links_only(site, client):
    from tests import factories

    client.force_login(factories.StaffFactory(is_superuser=True))
    response = client.get(reverse("wagtailadmin_pages:edit", args=[site.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="privacy_notice"' in html
    assert html.index('name="privacy_notice"') < html.index('name="thank_you_text"')
    field = ContactPage._meta.get_field("privacy_notice")
    assert field.blank
    assert field.features == ["bold", "italic", "link"]
