"""The editor's choice fields (``options``: translated labels, stable values),
the conversion of Wagtail's ``choices`` text, and the contact form built from
them: empty first entries, dates typed the page's way, what a ticket stores."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import translation

from tests.pages_support import contact_page_post, new_field_row, post
from vivadesk_wagtail.models import ContactFormField, ContactPage, Ticket

pytestmark = pytest.mark.django_db

conversion = importlib.import_module(
    "vivadesk_wagtail.migrations.0014_contact_field_options"
)


def choice(label, value=""):
    return ("choice", {"label": label, "value": value})


def add_fields(page, *fields):
    """Append ``fields`` to the page's form and publish it."""
    page = ContactPage.objects.get(pk=page.pk)
    page.form_fields = [*page.form_fields.all(), *fields]
    page.save_revision().publish()
    return ContactPage.objects.get(pk=page.pk)


def dropdown(label="Gerät", required=True, **kwargs):
    return ContactFormField(
        label=label,
        field_type="dropdown",
        required=required,
        options=[choice("Drucker"), choice("Bildschirm")],
        **kwargs,
    )


def build(page, data=None):
    form_class = ContactPage.objects.get(pk=page.pk).get_form_class()
    return form_class(data) if data is not None else form_class()


def field_row(page, clean_name):
    return ContactPage.objects.get(pk=page.pk).form_fields.get(clean_name=clean_name)


# -- values --------------------------------------------------------------


def test_blank_values_are_made_from_labels_unique_and_kept(site):
    field = ContactFormField(
        page=site,
        label="Farbe",
        field_type="radio",
        options=[choice("Grün"), choice("grün!"), choice("Blau", "b-1"), choice("?")],
    )
    field.save()
    assert field.choice_pairs() == [
        ("grun", "Grün"),
        ("grun-2", "grün!"),
        ("b-1", "Blau"),
        ("choice", "?"),
    ]
    stored = ContactFormField.objects.get(pk=field.pk)
    stored.options[0].value["label"] = "Dunkelgrün"
    stored.save()
    assert ContactFormField.objects.get(pk=field.pk).choice_pairs()[0] == (
        "grun",
        "Dunkelgrün",
    )


def test_model_clean_fills_values_before_a_revision_is_saved(site):
    field = ContactFormField(
        page=site, label="Farbe", field_type="radio", options=[choice("Rot")]
    )
    field.clean()
    assert field.choice_pairs() == [("rot", "Rot")]


def test_choice_types_and_panels():
    from vivadesk_wagtail.models.pages import CHOICE_TYPES

    assert set(CHOICE_TYPES) == {"dropdown", "multiselect", "radio", "checkboxes"}
    panel_fields = [panel.field_name for panel in ContactFormField.panels]
    assert "options" in panel_fields and "choices" not in panel_fields


# -- conversion of the choices text ---------------------------------------------


def old_field(page, choices, **kwargs):
    kwargs.setdefault("label", "Gerät")
    field = ContactFormField(
        page=page, field_type="dropdown", choices=choices, **kwargs
    )
    field.save()
    return field


def test_conversion_turns_choices_into_options_for_every_locale(site):
    page_en = site.get_translation(_english())
    source = old_field(site, "Drucker\nBildschirm\nDrucker,\n")
    translated = old_field(
        page_en,
        "Printer\nScreen\nPrinter\nFax",
        translation_key=source.translation_key,
        locale=page_en.locale,
    )
    one_line = old_field(site, "Ja, Nein", label="Garantie")
    text_field = ContactFormField.objects.get(page=site, clean_name="customer_number")

    conversion.convert_choices(apps, None)

    source, translated, one_line = (
        ContactFormField.objects.get(pk=f.pk) for f in (source, translated, one_line)
    )
    assert source.choice_pairs() == [
        ("drucker", "Drucker"),
        ("bildschirm", "Bildschirm"),
        ("drucker-2", "Drucker"),
    ]
    assert translated.choice_pairs() == [
        ("drucker", "Printer"),
        ("bildschirm", "Screen"),
        ("drucker-2", "Printer"),
        ("fax", "Fax"),
    ]
    assert [c.id for c in translated.options][:3] == [c.id for c in source.options]
    assert one_line.choice_pairs() == [("ja", "Ja"), ("nein", "Nein")]
    assert (source.choices, translated.choices, one_line.choices) == ("", "", "")
    assert not ContactFormField.objects.get(pk=text_field.pk).options

    conversion.restore_choices(apps, None)
    assert ContactFormField.objects.get(pk=one_line.pk).choices == "Ja\nNein"


def test_conversion_keeps_the_translated_labels_for_the_next_sync(site):
    page_en = site.get_translation(_english())
    source_row = old_field(site, "Drucker\nBildschirm")
    old_field(
        page_en,
        "Printer\nScreen\nFax",
        translation_key=source_row.translation_key,
        locale=page_en.locale,
    )
    conversion.convert_choices(apps, None)

    source = _translation_source(site)
    source.update_from_db()
    # As wagtail-localize's "Sync translated pages": a string without a
    # translation falls back to the source's (German) text.
    page_en, _created = source.create_or_update_translation(_english(), fallback=True)
    translated = page_en.form_fields.get(translation_key=source_row.translation_key)
    assert translated.choice_pairs() == [
        ("drucker", "Printer"),
        ("bildschirm", "Screen"),
    ]


# -- the form ----------------------------------------------------------------


def test_required_dropdown_starts_with_please_choose(site):
    page = add_fields(site, dropdown(), dropdown("Zweitgerät", required=False))
    with translation.override("en"):
        html = str(build(page)["gerat"])
        optional = str(build(page)["zweitgerat"])
    assert '<option value="" selected>Please choose …</option>' in html
    assert '<option value="drucker">Drucker</option>' in html
    assert '<option value="" selected>—</option>' in optional
    form = build(page, {"gerat": ""})
    form.is_valid()
    assert "gerat" in form.errors
    assert "zweitgerat" not in form.errors


def test_default_value_preselects_by_value_or_label(site):
    page = add_fields(
        site,
        dropdown(default_value="Bildschirm"),
        ContactFormField(
            label="Zubehör",
            field_type="checkboxes",
            required=False,
            options=[choice("Kabel"), choice("Maus"), choice("Tasche")],
            default_value="kabel, Tasche",
        ),
    )
    form = build(page)
    assert form["gerat"].value() == "bildschirm"
    assert form["zubehor"].value() == ["kabel", "tasche"]


def date_field():
    return ContactFormField(label="Kaufdatum", field_type="date", required=False)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("20.11.2026", datetime.date(2026, 11, 20)),
        ("2026-11-20", datetime.date(2026, 11, 20)),
        ("11/20/2026", None),
    ],
)
def test_german_page_takes_german_and_iso_dates(site, typed, expected):
    page = add_fields(site, date_field())
    form = build(page, {"kaufdatum": typed})
    form.is_valid()
    assert form.cleaned_data.get("kaufdatum") == expected
    assert ("kaufdatum" in form.errors) is (expected is None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("20/11/2026", datetime.date(2026, 11, 20)),
        ("01/02/2026", datetime.date(2026, 2, 1)),
        ("2026-11-20", datetime.date(2026, 11, 20)),
        ("11/20/2026", None),
    ],
)
def test_english_page_takes_day_first_and_iso_dates(site, typed, expected):
    add_fields(site, date_field())
    source = _translation_source(site)
    source.update_from_db()
    page_en, _created = source.create_or_update_translation(_english(), fallback=True)
    # The page's language counts, not the active one.
    with translation.override("de"):
        form = build(page_en, {"kaufdatum": typed})
        form.is_valid()
    assert form.cleaned_data.get("kaufdatum") == expected


def _english():
    from wagtail.models import Locale

    return Locale.objects.get(language_code="en")


def _translation_source(page):
    from wagtail_localize.models import TranslationSource

    return TranslationSource.objects.get_for_instance(page)


def test_date_inputs_and_a_typed_date_shown_again_in_iso(site):
    page = add_fields(
        site,
        date_field(),
        ContactFormField(label="Termin", field_type="datetime", required=False),
    )
    html = str(build(page)["kaufdatum"])
    assert 'type="date"' in html
    assert 'type="datetime-local"' in str(build(page)["termin"])
    again = build(page, {"kaufdatum": "20.11.2026", "termin": "2026-11-20T09:30"})
    assert again.is_valid() is False  # the core fields are missing
    assert 'value="2026-11-20"' in str(again["kaufdatum"])
    assert again.cleaned_data["termin"].replace(tzinfo=None) == datetime.datetime(
        2026, 11, 20, 9, 30
    )
    typed = build(page, {"termin": "20.11.2026 09:30"})
    assert typed.is_valid() is False
    assert "termin" not in typed.errors
    assert 'value="2026-11-20T09:30"' in str(typed["termin"])


# -- what a ticket stores ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ticket_stores_labels_as_shown_and_stable_values(site, client):
    add_fields(
        site,
        dropdown(),
        ContactFormField(
            label="Zubehör",
            field_type="checkboxes",
            required=False,
            options=[choice("Kabel"), choice("Maus", "mouse")],
        ),
        date_field(),
    )
    response = post(
        client,
        "/de/kontakt/",
        gerat="bildschirm",
        zubehor=["kabel", "mouse"],
        kaufdatum="20.11.2026",
    )
    assert response.status_code == 200
    assert Ticket.objects.get().form_data == [
        {
            "name": "customer_number",
            "label": "Kundennummer (falls vorhanden)",
            "value": "K-42",
        },
        {
            "name": "gerat",
            "label": "Gerät",
            "value": "Bildschirm",
            "choices": ["bildschirm"],
        },
        {
            "name": "zubehor",
            "label": "Zubehör",
            "value": "Kabel, Maus",
            "choices": ["kabel", "mouse"],
        },
        {"name": "kaufdatum", "label": "Kaufdatum", "value": "2026-11-20"},
    ]
    rows = Ticket.objects.get().form_data
    page = ContactPage.objects.get(pk=site.pk)
    assert [row["value"] for row in page.answers(rows)] == [
        "K-42",
        "Bildschirm",
        "Kabel, Maus",
        "20. November 2026",  # the stored ISO date in the reader's format
    ]


def test_page_editor_shows_options_not_the_choices_text(site, client):
    from django.contrib.auth import get_user_model

    page = add_fields(site, dropdown())
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    assert "form_fields-1-options" in html
    assert "form_fields-1-choices" not in html


def test_a_draft_saved_in_the_page_editor_has_the_values(site, client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    data = contact_page_post(
        site,
        new_field_row(
            "Gerät",
            "dropdown",
            required=True,
            options=("Drucker", ("Bildschirm", "monitor")),
        ),
        intro=site.intro,
        thank_you_text=site.thank_you_text,
    )
    response = client.post(f"/admin/pages/{site.pk}/edit/", data)
    assert response.status_code == 302, "the page editor refused the form"
    draft = ContactPage.objects.get(pk=site.pk).get_latest_revision_as_object()
    added = [f for f in draft.form_fields.all() if f.label == "Gerät"]
    assert added[0].choice_pairs() == [
        ("drucker", "Drucker"),
        ("monitor", "Bildschirm"),
    ]
