"""Contact-form fields translated with wagtail-localize: names, types and
``required`` are synchronised and not overridable, each choice label is its
own segment, choice values are the source's in every language, and edits of
the source keep the translations of what did not change."""

import pytest
from django.utils import translation
from wagtail.models import Locale
from wagtail_localize.models import (
    OverridableSegment,
    StringSegment,
    StringTranslation,
    Translation,
    TranslationSource,
)

from vivadesk_wagtail.models import ContactFormField, ContactPage

pytestmark = pytest.mark.django_db

ENGLISH = {
    "Reklamation": "Complaint",
    "reklamation": "complaint",
    "Gerät": "Device",
    "Welches Gerät ist betroffen?": "Which device is affected?",
    "Drucker": "Printer",
    "Bildschirm": "Screen",
    "Tastatur": "Keyboard",
    "Kaufdatum": "Date of purchase",
    "Laserdrucker": "Laser printer",
    "Maus": "Mouse",
}


def choice(label, value=""):
    return ("choice", {"label": label, "value": value})


@pytest.fixture
def german_page(site):
    """A German contact page with a required drop-down and a date field, in
    that order (``sort_order`` as the page editor sets it: without it the
    order of the rows is the database's choice)."""
    home = site.get_parent().specific
    page = ContactPage(title="Reklamation", slug="reklamation", locale=home.locale)
    page.form_fields = [
        ContactFormField(
            sort_order=0,
            label="Gerät",
            help_text="Welches Gerät ist betroffen?",
            field_type="dropdown",
            required=True,
            options=[choice("Drucker"), choice("Bildschirm"), choice("Tastatur")],
        ),
        ContactFormField(
            sort_order=1, label="Kaufdatum", field_type="date", required=False
        ),
    ]
    home.add_child(instance=page)
    page.save_revision().publish()
    return ContactPage.objects.get(pk=page.pk)


def english():
    return Locale.objects.get(language_code="en")


def translate_strings(source, locale, strings=ENGLISH):
    """Translate the source's strings not yet translated (as a translator in
    the translation editor would), from ``strings``."""
    for segment in StringSegment.objects.filter(source=source).select_related(
        "string", "context"
    ):
        done = StringTranslation.objects.filter(
            translation_of=segment.string, locale=locale, context=segment.context
        )
        if not done.exists():
            StringTranslation.objects.create(
                translation_of=segment.string,
                locale=locale,
                context=segment.context,
                data=strings[segment.string.data],
            )


def translate(page):
    """Translate ``page`` into English as the translation editor does."""
    source, _created = TranslationSource.get_or_create_from_instance(page)
    Translation.objects.get_or_create(
        source=source, target_locale=english(), defaults={"enabled": True}
    )
    translate_strings(source, english())
    source.create_or_update_translation(english())
    return source, ContactPage.objects.get(pk=page.pk).get_translation(english())


def fields(page):
    return list(ContactPage.objects.get(pk=page.pk).form_fields.all())


def dropdown(page):
    return next(f for f in fields(page) if f.field_type == "dropdown")


def test_english_translation_keeps_names_types_required_and_values(german_page):
    _source, page_en = translate(german_page)
    de, en = fields(german_page), fields(page_en)
    assert [(f.clean_name, f.field_type, f.required) for f in en] == [
        (f.clean_name, f.field_type, f.required) for f in de
    ]
    assert [f.clean_name for f in en] == ["gerat", "kaufdatum"]
    assert [f.label for f in en] == ["Device", "Date of purchase"]
    assert dropdown(page_en).choice_pairs() == [
        ("drucker", "Printer"),
        ("bildschirm", "Screen"),
        ("tastatur", "Keyboard"),
    ]
    assert dropdown(german_page).choice_pairs()[0] == ("drucker", "Drucker")


def test_each_choice_label_is_a_segment_and_the_value_none(german_page):
    source, _created = TranslationSource.get_or_create_from_instance(german_page)
    paths = list(
        StringSegment.objects.filter(source=source).values_list(
            "context__path", flat=True
        )
    )
    option_paths = [p for p in paths if ".options." in p]
    assert len(option_paths) == 3
    assert all(p.endswith(".label") for p in option_paths)


def test_names_types_and_required_cannot_be_overridden(german_page):
    source, _created = TranslationSource.get_or_create_from_instance(german_page)
    overridable = [
        path.rsplit(".", 1)[-1]
        for path in OverridableSegment.objects.filter(source=source).values_list(
            "context__path", flat=True
        )
    ]
    for name in ("clean_name", "field_type", "required", "value", "choices"):
        assert name not in overridable


def test_editing_the_source_keeps_values_and_remaining_translations(german_page):
    source, page_en = translate(german_page)
    page = ContactPage.objects.get(pk=german_page.pk)
    rows = list(page.form_fields.all())
    field = next(f for f in rows if f.field_type == "dropdown")
    kept = [child for child in field.options if child.value["label"] != "Bildschirm"]
    kept[0].value["label"] = "Laserdrucker"
    field.options = [
        {"type": "choice", "id": child.id, "value": dict(child.value)} for child in kept
    ] + [{"type": "choice", "value": {"label": "Maus", "value": ""}}]
    page.form_fields = rows
    page.save_revision().publish()
    assert dropdown(german_page).choice_pairs() == [
        ("drucker", "Laserdrucker"),
        ("tastatur", "Tastatur"),
        ("maus", "Maus"),
    ]

    source.update_from_db()
    # Only the new strings are translated now; without the old translations
    # (keyed by string and block) the update below fails.
    translate_strings(
        source, english(), {"Laserdrucker": "Laser printer", "Maus": "Mouse"}
    )
    source.create_or_update_translation(english())

    assert dropdown(page_en).choice_pairs() == [
        ("drucker", "Laser printer"),
        ("tastatur", "Keyboard"),
        ("maus", "Mouse"),
    ]
    assert [f.label for f in fields(page_en)] == ["Device", "Date of purchase"]


def test_answers_read_in_the_page_language(german_page):
    _source, page_en = translate(german_page)
    rows = [
        {"name": "gerat", "label": "Gerät", "value": "Drucker", "choices": ["drucker"]},
        {"name": "kaufdatum", "label": "Kaufdatum", "value": "2026-11-20"},
        {"name": "seriennummer", "label": "Seriennummer", "value": "S-1"},
        {"name": "gerat", "label": "Gerät", "value": "Fax", "choices": ["fax"]},
    ]
    with translation.override("en"):
        answers = page_en.answers(rows)
    assert answers == [
        {
            "name": "gerat",
            "label": "Device",
            "value": "Printer",
            "choices": ["drucker"],
        },
        {"name": "kaufdatum", "label": "Date of purchase", "value": "20 Nov 2026"},
        {"name": "seriennummer", "label": "Seriennummer", "value": "S-1"},
        {"name": "gerat", "label": "Device", "value": "Fax", "choices": ["fax"]},
    ]
    german = ContactPage.objects.get(pk=german_page.pk).answers(rows[:1])
    assert german == [
        {"name": "gerat", "label": "Gerät", "value": "Drucker", "choices": ["drucker"]}
    ]
    assert rows[0]["label"] == "Gerät"  # the stored rows are left as they are


def test_translation_editor_offers_labels_not_values(german_page, client):
    import html
    import json
    import re

    from django.contrib.auth import get_user_model

    _source, page_en = translate(german_page)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    response = client.get(f"/admin/pages/{page_en.pk}/edit/")
    assert response.status_code == 200
    props = re.search(
        r'class="js-translation-editor" data-props="([^"]*)"', response.content.decode()
    ).group(1)
    segments = json.loads(html.unescape(props))["segments"]
    offered = [s["source"] for s in segments if s["type"] == "string"]
    assert {"Drucker", "Bildschirm", "Tastatur"} <= set(offered)
    assert not {"drucker", "bildschirm", "tastatur"} & set(offered)
    overridable = [
        s["contentPath"]
        for s in segments
        if s["type"] == "synchronised_value"
        and s["contentPath"].startswith("form_fields.")
    ]
    assert overridable == []
