"""A translated page shows when its source changed since the last sync.

Publishing a change of the German source page marks its English translation
out of date (a sync reads the published page, so a draft does not count until
it is published, also after a sync): a banner in the translation editor, with
a link to wagtail-localize's "Sync translated pages", and a marker on the
page's row in the page explorer.
Syncing clears both. The explorer computes the marker inside its listing query
(no query per row).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.urls import reverse
from wagtail.models import Locale
from wagtail.users.models import UserProfile
from wagtail_localize.models import TranslationSource

from vivadesk_wagtail import translation_admin
from vivadesk_wagtail.models import ContactPage

BANNER = "The source page has changed since the last sync."
MARKER = "data-vivadesk-outdated"


@pytest.fixture
def english_editor(editor):
    """The "Editors" user, with an English admin (assertions in English)."""
    profile = UserProfile.get_for_user(editor)
    profile.preferred_language = "en"
    profile.save()
    return editor


@pytest.fixture
def pages(db, site):
    """The demo's German contact page and its English translation."""
    english = site.get_translation(Locale.objects.get(language_code="en"))
    return ContactPage.objects.get(pk=site.pk), english


@pytest.fixture
def editor_client(client, english_editor):
    client.force_login(english_editor)
    return client


def edit_german(german, publish=True):
    german.intro = "<p>Schreiben Sie uns, wir antworten bald.</p>"
    revision = german.save_revision()
    if publish:
        revision.publish()
    return revision


def translation_editor(client, english) -> str:
    response = client.get(reverse("wagtailadmin_pages:edit", args=[english.pk]))
    assert response.status_code == 200
    return response.content.decode()


def explorer(client, english) -> str:
    response = client.get(
        reverse("wagtailadmin_explore", args=[english.get_parent().pk])
    )
    assert response.status_code == 200
    return response.content.decode()


def sync_url(german) -> str:
    source = TranslationSource.objects.get_for_instance(german)
    return reverse("wagtail_localize:update_translations", args=[source.pk])


def test_a_synced_translation_shows_no_marker(editor_client, pages):
    _german, english = pages

    assert BANNER not in translation_editor(editor_client, english)
    assert MARKER not in explorer(editor_client, english)


def test_a_german_edit_marks_the_translation_out_of_date(editor_client, pages):
    german, english = pages

    edit_german(german)

    html = translation_editor(editor_client, english)
    assert BANNER in html
    assert sync_url(german) in html
    listing = explorer(editor_client, english)
    assert MARKER in listing
    assert sync_url(german) in listing


def test_the_source_page_itself_shows_no_marker(editor_client, pages):
    german, _english = pages

    edit_german(german)

    assert MARKER not in explorer(editor_client, german)


def test_sync_clears_the_marker(
    editor_client, pages, django_capture_on_commit_callbacks
):
    german, english = pages
    edit_german(german)
    assert MARKER in explorer(editor_client, english)

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(sync_url(german), {})

    assert response.status_code == 302
    assert BANNER not in translation_editor(editor_client, english)
    assert MARKER not in explorer(editor_client, english)


def test_the_explorer_rows_carry_the_marker_without_a_query_each(
    rf, pages, english_editor, django_assert_num_queries
):
    german, english = pages
    edit_german(german)
    parent = english.get_parent()
    rows = list(
        translation_admin.annotate_outdated(parent, parent.get_children(), rf.get("/"))
    )
    english_editor.has_perm("wagtail_localize.submit_translation")  # cached

    with django_assert_num_queries(0):
        marked = [
            row.pk
            for row in rows
            if list(translation_admin.outdated_listing_buttons(row, english_editor))
        ]

    assert marked == [english.pk]


def test_a_draft_counts_once_it_is_published_also_after_a_sync(
    editor_client, pages, django_capture_on_commit_callbacks
):
    """A sync reads the published source: a draft edit is not yet out of
    date, and its publication after a sync is."""
    german, english = pages
    draft = edit_german(german, publish=False)
    assert MARKER not in explorer(editor_client, english)

    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(sync_url(german), {})
    draft.publish()

    assert MARKER in explorer(editor_client, english)
    assert BANNER in translation_editor(editor_client, english)


#: wagtail-localize's translation editor template, whose ``content`` block
#: ``templates/wagtail_localize/admin/edit_translation.html`` copies
#: (wagtail-localize 1.14), by its SHA-256.
COPIED_TEMPLATE_DIGEST = (
    "52b849c00b09876c0fb0e7314a762f1eebb1c4212120828c61c1350a301a5ba7"
)


def test_the_copied_translation_editor_block_is_wagtail_localizes_current_one():
    """Fails when wagtail-localize changes its template: bring the copy in
    step, then update the digest."""
    import wagtail_localize

    original = (
        Path(wagtail_localize.__file__).parent
        / "templates/wagtail_localize/admin/edit_translation.html"
    )
    assert hashlib.sha256(original.read_bytes()).hexdigest() == COPIED_TEMPLATE_DIGEST


def test_the_status_sits_between_the_locale_header_and_the_editor(editor_client, pages):
    german, english = pages
    edit_german(german)
    html = translation_editor(editor_client, english)
    assert (
        html.index("header-meta--locales")
        < html.index(BANNER)
        < html.index("js-translation-editor")
    )
