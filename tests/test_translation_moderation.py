"""Translations go through Wagtail's moderation like any page edit.

An editor (Wagtail's "Editors" group: edit, no publish) translates a published
German page with wagtail-localize's "Translate": the English page starts as a
draft. From the translation editor the editor submits it to the default
workflow; a moderator approves it and it goes live. "Publish" in the
translation editor, "Publish immediately" in "Sync translated pages" and
"Convert to alias page" do nothing for the editor. The system check
vivadesk.E060 insists on the setting that keeps "Translate" from publishing.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from wagtail.models import Locale, Page, WorkflowState
from wagtail_localize.models import Translation, TranslationSource

from tests import factories, staff_support
from vivadesk_wagtail import checks
from vivadesk_wagtail.models import ContactPage

SUBMIT_URL_NAME = "vivadesk_wagtail_submit_translation"


@pytest.fixture
def german_page(db, site):
    """A published German contact page that has no translation yet."""
    home = site.get_parent()
    page = ContactPage(
        title="Druckerhilfe",
        slug="druckerhilfe",
        intro="<p>Hilfe rund ums Drucken.</p>",
        locale=home.locale,
    )
    home.add_child(instance=page)
    page.save_revision().publish()
    return ContactPage.objects.get(pk=page.pk)


@pytest.fixture
def live_english(db, site):
    """The demo's English contact page, published (the demo publishes it when
    its transaction commits, which a test's never does)."""
    english = site.get_translation(Locale.objects.get(language_code="en"))
    english.get_latest_revision().publish()
    return ContactPage.objects.get(pk=english.pk)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def moderator(db):
    user = factories.StaffFactory(username="moderator")
    user.groups.add(staff_support.group("Moderators", "wagtailadmin.access_admin"))
    return user


def translate(client, page, capture):
    """The editor's "Translate this page" into English, with the work the
    request leaves for the commit (wagtail-localize publishes on commit)."""
    english = Locale.objects.get(language_code="en")
    with capture(execute=True):
        response = client.post(
            reverse("wagtail_localize:submit_page_translation", args=[page.pk]),
            {"locales": [english.pk]},
        )
    assert response.status_code == 302, response.content[:2000]
    return ContactPage.objects.get(translation_key=page.translation_key, locale=english)


def translation_of(page) -> Translation:
    return Translation.objects.get(
        source__object_id=page.translation_key, target_locale=page.locale
    )


def editor_props(response) -> dict:
    match = re.search(r'data-props="([^"]+)"', response.content.decode())
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_translating_a_live_page_does_not_publish_the_translation(
    editor_client, german_page, django_capture_on_commit_callbacks
):
    english = translate(editor_client, german_page, django_capture_on_commit_callbacks)

    assert not english.live
    assert english.live_revision is None
    assert editor_client.get("/en/welcome-to-viva/druckerhilfe/").status_code == 404


def test_the_editor_submits_the_translation_and_a_moderator_publishes_it(
    client, editor, moderator, german_page, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    english = translate(client, german_page, django_capture_on_commit_callbacks)
    translation = translation_of(english)
    editor_page = client.get(reverse("wagtailadmin_pages:edit", args=[english.pk]))
    submit_url = reverse(SUBMIT_URL_NAME, args=[translation.pk])
    assert submit_url in editor_page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(submit_url)

    assert response.status_code == 302
    english = ContactPage.objects.get(pk=english.pk)
    state = english.current_workflow_state
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == "Moderators approval"
    assert state.requested_by == editor
    assert not english.live

    client.force_login(moderator)
    task_state = state.current_task_state
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse(
                "wagtailadmin_pages:workflow_action",
                args=[english.pk, "approve", task_state.pk],
            ),
            {"comment": ""},
        )

    english = ContactPage.objects.get(pk=english.pk)
    assert english.live
    assert english.title == "Druckerhilfe"  # no English strings yet: the source's
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED


def test_a_live_translation_keeps_its_published_content_while_in_moderation(
    editor_client, site, live_english, django_capture_on_commit_callbacks
):
    english = live_english
    translation = translation_of(english)
    german = ContactPage.objects.get(pk=site.pk)
    german.title = "Kontakt und Hilfe"
    german.save_revision().publish()
    TranslationSource.objects.get(pk=translation.source_id).update_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse(SUBMIT_URL_NAME, args=[translation.pk]))

    assert response.status_code == 302
    english = ContactPage.objects.get(pk=english.pk)
    assert english.title == "Contact"
    assert english.has_unpublished_changes
    assert english.get_latest_revision_as_object().title == "Kontakt und Hilfe"
    assert english.workflow_in_progress


def test_submitting_needs_the_right_to_edit(
    client, german_page, editor, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    english = translate(client, german_page, django_capture_on_commit_callbacks)
    outsider = factories.StaffFactory(username="outsider")
    outsider.groups.add(staff_support.group("Outsiders", "wagtailadmin.access_admin"))
    client.force_login(outsider)

    response = client.post(reverse(SUBMIT_URL_NAME, args=[translation_of(english).pk]))

    staff_support.assert_denied(response)
    assert not Page.objects.get(pk=english.pk).workflow_in_progress


def test_the_translation_editor_offers_no_publish_to_the_editor(
    editor_client, german_page, django_capture_on_commit_callbacks
):
    english = translate(editor_client, german_page, django_capture_on_commit_callbacks)
    edit_url = reverse("wagtailadmin_pages:edit", args=[english.pk])

    page = editor_client.get(edit_url)
    assert editor_props(page)["perms"]["canPublish"] is False

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(edit_url, {"action": "publish"})

    staff_support.assert_denied(response)
    assert not ContactPage.objects.get(pk=english.pk).live


def test_a_moderator_sees_publish_in_the_translation_editor(
    client, moderator, german_page, editor, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    english = translate(client, german_page, django_capture_on_commit_callbacks)
    client.force_login(moderator)

    page = client.get(reverse("wagtailadmin_pages:edit", args=[english.pk]))

    assert editor_props(page)["perms"]["canPublish"] is True


def test_converting_the_translation_to_an_alias_does_not_publish_for_the_editor(
    editor_client, german_page, django_capture_on_commit_callbacks
):
    english = translate(editor_client, german_page, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("wagtail_localize:convert_to_alias", args=[english.pk])
        )

    staff_support.assert_denied(response)
    english = ContactPage.objects.get(pk=english.pk)
    assert not english.live
    assert english.alias_of_id is None


def sync(client, page, capture, **data):
    source = TranslationSource.objects.get_for_instance(page)
    with capture(execute=True):
        return client.post(
            reverse("wagtail_localize:update_translations", args=[source.pk]), data
        )


def test_sync_does_not_publish_for_the_editor(
    editor_client, site, live_english, django_capture_on_commit_callbacks
):
    site.intro = "<p>Neue Einleitung.</p>"
    site.save_revision().publish()
    english = live_english
    source = TranslationSource.objects.get_for_instance(site)
    form = editor_client.get(
        reverse("wagtail_localize:update_translations", args=[source.pk])
    )
    assert 'type="checkbox" name="publish_translations"' not in form.content.decode()

    response = sync(
        editor_client,
        site,
        django_capture_on_commit_callbacks,
        publish_translations="on",
    )

    assert response.status_code == 302
    after = ContactPage.objects.get(pk=english.pk)
    assert after.live_revision_id == english.live_revision_id
    assert "Neue Einleitung" not in after.intro
    assert "Write to us" in after.intro
    source.refresh_from_db()
    assert "Neue Einleitung" in source.content_json  # the source is synced


def test_sync_publishes_for_a_moderator(
    client, moderator, site, live_english, django_capture_on_commit_callbacks
):
    client.force_login(moderator)
    site.intro = "<p>Neue Einleitung.</p>"
    site.save_revision().publish()
    english = live_english
    source = TranslationSource.objects.get_for_instance(site)
    form = client.get(reverse("wagtail_localize:update_translations", args=[source.pk]))
    assert 'type="checkbox" name="publish_translations"' in form.content.decode()

    sync(client, site, django_capture_on_commit_callbacks, publish_translations="on")

    after = ContactPage.objects.get(pk=english.pk)
    assert after.live_revision_id != english.live_revision_id
    assert "Neue Einleitung" in after.intro


@pytest.mark.parametrize("value", [True, None])
def test_the_check_requires_translations_to_start_as_drafts(settings, value):
    if value is None:
        del settings.WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE
    else:
        settings.WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE = value

    errors = [e for e in checks.check_vivadesk_settings() if e.id == "vivadesk.E060"]

    assert len(errors) == 1
    assert "WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE" in errors[0].msg
    assert "False" in errors[0].hint


def test_the_reference_settings_pass_the_check():
    assert not [e for e in checks.check_vivadesk_settings() if e.id == "vivadesk.E060"]
