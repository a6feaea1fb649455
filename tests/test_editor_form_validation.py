"""The contact page editor refuses extra fields the contact form could not
use, with a message at the field concerned that names it: posted as an
editor (Wagtail's "Editors" group) through the page editor's own URL."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests.pages_support import contact_page_post
from tests.pages_support import new_field_row as extra
from vivadesk_wagtail.models import ContactFormField, ContactPage
from vivadesk_wagtail.pages.admin_forms import (
    FIXED_FIELD_NAMES,
    FORM_OWN_NAMES,
    ContactPageForm,
)
from vivadesk_wagtail.pages.forms import CORE_FIELDS, TRAP_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def post_edit(client, page: ContactPage, *rows):
    """The page editor's post: the page as it is, its stored extra field
    (the demo's customer number) kept, and ``rows`` added after it."""
    return client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        contact_page_post(page, *rows),
    )


#: Wagtail's notes on a page not saved (edit) or not created (add).
NOT_SAVED = (
    "Fehlern bei der Validierung konnte die Seite nicht gespeichert",
    "wegen Prüfungsfehlern nicht erstellt",
    "could not be saved due to validation errors",
)


def refused(response) -> str:
    """The re-shown editor of a post that was not saved."""
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert any(note in page for note in NOT_SAVED)
    return page


def field_errors(page: str, row: int, field: str) -> str:
    """The error text shown at ``field`` of the extra field in ``row`` (the
    box its input names in ``aria-describedby``), ``""`` without one."""
    widget = re.search(
        rf'<(?:input|select|textarea)[^>]*id="id_form_fields-{row}-{field}"[^>]*>',
        page,
    )
    assert widget, f"no {field} in row {row}"
    described = re.search(r'aria-describedby="([^"]*)"', widget.group(0))
    boxes = [
        i
        for i in (described.group(1) if described else "").split()
        if i.endswith("-errors")
    ]
    if not boxes:
        return ""
    box = re.search(rf'id="{boxes[0]}">(.*?)</div>', page, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", box.group(1))).split())


def options_errors(page: str, row: int) -> dict:
    """The errors the ``options`` StreamField of ``row`` is drawn with."""
    match = re.search(
        rf'id="form_fields-{row}-options"[^>]*data-w-block-arguments-value="([^"]*)"',
        page,
    )
    assert match, f"no options of row {row}"
    _value, errors = json.loads(html.unescape(match.group(1)))
    return errors or {}


def test_sound_extra_fields_are_saved(site, editor_client):
    response = post_edit(
        editor_client,
        site,
        extra(
            "Gerät",
            "dropdown",
            required=True,
            default="scanner",  # a choice named by its value
            options=["Drucker", "Scanner"],
        ),
        extra("Räume", "checkboxes", default="Büro\nLager", options=["Büro", "Lager"]),
        extra("Quelle", "hidden", required=True, default="Messe"),
        extra("Anzahl", "number", default="3"),
        extra("Kaufdatum", "date", default="2026-12-03"),
        extra("E-Mail (Rechnung)", "email"),
    )
    assert response.status_code == 302
    draft = ContactPage.objects.get(pk=site.pk).get_latest_revision_as_object()
    saved = {field.label: field for field in draft.form_fields.all()}
    assert saved["Gerät"].choice_pairs() == [
        ("drucker", "Drucker"),
        ("scanner", "Scanner"),
    ]
    assert {"Räume", "Quelle", "Anzahl", "Kaufdatum", "E-Mail (Rechnung)"} < set(saved)


def test_names_of_the_fixed_fields_are_refused(site, editor_client):
    labels = {
        "Name": "Name",
        "Ihr Name": "Name",
        "E-Mail": "E-Mail-Adresse",
        "Email": "E-Mail-Adresse",
        "E-Mail-Adresse": "E-Mail-Adresse",
        "Email address": "E-Mail-Adresse",
        "Betreff": "Betreff",
        "Subject": "Betreff",
        "Nachricht": "Ihre Nachricht",
        "Ihre Nachricht": "Ihre Nachricht",
        "Message": "Ihre Nachricht",
        "Anhänge": "Anhänge",
        "Anhaenge": "Anhänge",
        "Attachments": "Anhänge",
    }
    page = refused(post_edit(editor_client, site, *[extra(label) for label in labels]))
    for row, fixed in enumerate(labels.values(), start=1):
        assert field_errors(page, row, "label") == (
            f"Das Feld „{fixed}“ ist immer vorhanden. Bitte wählen Sie für "
            "dieses zusätzliche Feld eine andere Beschriftung."
        )
    assert field_errors(page, 0, "label") == ""  # the customer number is fine


def test_names_the_form_needs_for_itself_are_refused(site, editor_client):
    labels = {
        "vd_reserve": "vd_reserve",
        "Shown": "shown",
        "Idempotency key": "idempotency_key",
        "Website": "website",
        "URL": "url",
        "csrfmiddlewaretoken": "csrfmiddlewaretoken",
    }
    page = refused(post_edit(editor_client, site, *[extra(label) for label in labels]))
    for row, name in enumerate(labels.values(), start=1):
        assert field_errors(page, row, "label") == (
            f"Der Name „{name}“ ist für das Formular selbst (seinen Spamschutz) "
            "reserviert. Bitte wählen Sie eine andere Beschriftung."
        )


def test_a_stored_field_under_a_fixed_name_must_be_replaced(site, editor_client):
    ContactFormField.objects.create(
        page=site, label="Ihre E-Mail", clean_name="email", field_type="email"
    )
    page = refused(post_edit(editor_client, site))
    assert field_errors(page, 1, "label") == (
        "Dieses Feld ist unter dem Namen „email“ des Feldes „E-Mail-Adresse“ "
        "gespeichert, das immer vorhanden ist. Bitte löschen Sie es und legen "
        "Sie ein Feld mit einer anderen Beschriftung an."
    )


def test_a_label_without_letters_is_refused(site, editor_client):
    page = refused(post_edit(editor_client, site, extra("???")))
    assert field_errors(page, 1, "label") == (
        "Aus der Beschriftung „???“ lässt sich kein Feldname bilden. Bitte "
        "verwenden Sie eine Beschriftung mit Buchstaben oder Ziffern."
    )


def test_wagtail_refuses_two_extra_fields_with_one_name(site, editor_client):
    """Wagtail's own check (``WagtailAdminFormPageForm``) compares the names
    made from the labels, so "Kaufdatum" and "kaufdatum" clash too, and a
    stored field keeps its name whatever its label (the demo's customer
    number is stored as ``customer_number``)."""
    page = refused(
        post_edit(
            editor_client,
            site,
            extra("Kaufdatum", "date"),
            extra("kaufdatum"),
            extra("Customer number"),
        )
    )
    clash = (
        "Der Feldname „kaufdatum“ steht im Konflikt mit einem anderen Feld. "
        "Bitte ändern Sie die Bezeichnung."
    )
    assert field_errors(page, 1, "label") == clash
    assert field_errors(page, 2, "label") == clash
    assert field_errors(page, 3, "label") == (
        "Der Feldname „customer_number“ steht im Konflikt mit einem anderen "
        "Feld. Bitte ändern Sie die Bezeichnung."
    )
    assert field_errors(page, 0, "label") == (
        "Der Name „customer_number“ ist diesem Feld bereits "
        "zugewiesen und kann nicht geändert werden. Geben Sie für das in "
        "Konflikt stehende Feld eine andere Bezeichnung ein."
    )


def test_choice_fields_need_choices(site, editor_client):
    types = {
        "dropdown": "Dropdown",
        "multiselect": "Mehrfachauswahl",
        "radio": "Radiobuttons",
        "checkboxes": "Checkboxen",
    }
    rows = [extra(f"Frage {n}", field_type) for n, field_type in enumerate(types)]
    page = refused(post_edit(editor_client, site, *rows))
    for row, type_name in enumerate(types.values(), start=1):
        assert options_errors(page, row) == {
            "messages": [
                f"Das Feld „Frage {row - 1}“ ist vom Typ „{type_name}“, hat aber "
                "keine Auswahlmöglichkeiten. Bitte fügen Sie mindestens eine hinzu."
            ]
        }


def test_a_choice_value_or_label_twice_is_refused_at_that_choice(site, editor_client):
    page = refused(
        post_edit(
            editor_client,
            site,
            extra(
                "Gerät", "radio", options=[("Drucker", "geraet"), ("Scanner", "geraet")]
            ),
            extra("Raum", "checkboxes", options=["Büro", "Lager", "büro"]),
        )
    )
    assert options_errors(page, 1) == {
        "blockErrors": {
            "1": {
                "blockErrors": {
                    "value": {
                        "messages": [
                            "Der gespeicherte Wert „geraet“ gehört schon zu einer "
                            "anderen Auswahl des Feldes „Gerät“. Jede Auswahl "
                            "braucht ihren eigenen Wert."
                        ]
                    }
                }
            }
        }
    }
    assert options_errors(page, 2) == {
        "blockErrors": {
            "2": {
                "blockErrors": {
                    "label": {
                        "messages": ["Das Feld „Raum“ hat die Auswahl „büro“ bereits."]
                    }
                }
            }
        }
    }


def test_a_default_value_must_be_a_choice(site, editor_client):
    page = refused(
        post_edit(
            editor_client,
            site,
            extra("Gerät", "dropdown", default="Fax", options=["Drucker", "Scanner"]),
            extra(
                "Räume", "checkboxes", default="Büro, Keller", options=["Büro", "Lager"]
            ),
            extra("Anrede", "radio", default="Frau\nHerr", options=["Frau", "Herr"]),
        )
    )
    assert field_errors(page, 1, "default_value") == (
        "Der Vorgabewert „Fax“ ist keine der Auswahlmöglichkeiten des Feldes „Gerät“."
    )
    assert field_errors(page, 2, "default_value") == (
        "Der Vorgabewert „Keller“ ist keine der Auswahlmöglichkeiten des Feldes "
        "„Räume“."
    )
    assert field_errors(page, 3, "default_value") == (
        "Im Feld „Anrede“ wählen Besucher nur eine Möglichkeit: Bitte geben Sie "
        "höchstens einen Vorgabewert an."
    )


def test_choices_on_a_field_without_choices_are_refused(site, editor_client):
    page = refused(
        post_edit(editor_client, site, extra("Seriennummer", options=["A", "B"]))
    )
    assert options_errors(page, 1) == {
        "messages": [
            "Das Feld „Seriennummer“ ist vom Typ „Einzeiliger Text“, der keine "
            "Auswahl anzeigt. Bitte entfernen Sie die Auswahlmöglichkeiten oder "
            "wählen Sie den Typ Dropdown, Mehrfachauswahl, Radiobuttons oder "
            "Checkboxen."
        ]
    }


def test_a_hidden_required_field_needs_a_default_value(site, editor_client):
    page = refused(
        post_edit(editor_client, site, extra("Quelle", "hidden", required=True))
    )
    assert field_errors(page, 1, "default_value") == (
        "Das Feld „Quelle“ ist versteckt und erforderlich, hat aber keinen "
        "Vorgabewert: Besucher könnten das Formular nie absenden. Bitte geben Sie "
        "einen Vorgabewert an oder entfernen Sie den Haken bei „Erforderlich“."
    )


def test_a_default_value_the_field_would_refuse_is_refused(site, editor_client):
    page = refused(
        post_edit(
            editor_client,
            site,
            extra("Anzahl", "number", default="viele"),
            extra("Kaufdatum", "date", default="gestern"),
            extra("Kontakt", "email", default="kein Postfach"),
            extra("Liefertag", "date", default="24.12.2026"),
        )
    )
    assert field_errors(page, 1, "default_value") == (
        "Der Vorgabewert des Feldes „Anzahl“ ist ungültig: Bitte eine Zahl eingeben."
    )
    assert field_errors(page, 2, "default_value") == (
        "Der Vorgabewert des Feldes „Kaufdatum“ ist ungültig: Bitte ein gültiges "
        "Datum eingeben."
    )
    assert field_errors(page, 3, "default_value") == (
        "Der Vorgabewert des Feldes „Kontakt“ ist ungültig: Bitte gültige "
        "E-Mail-Adresse eingeben."
    )
    # Typed the German way, the date picker would show it empty.
    assert field_errors(page, 4, "default_value") == (
        "Bitte schreiben Sie den Vorgabewert des Feldes „Liefertag“ als "
        "„2026-12-24“, so wie das Formular ihn anzeigt."
    )


def test_the_messages_in_english(site, editor, editor_client):
    profile = UserProfile.get_for_user(editor)
    profile.preferred_language = "en"
    profile.save()
    page = refused(
        post_edit(editor_client, site, extra("E-Mail"), extra("Gerät", "dropdown"))
    )
    assert field_errors(page, 1, "label") == (
        "The field “E-mail address” is always on the form. Please choose another "
        "label for this extra field."
    )
    assert options_errors(page, 2) == {
        "messages": [
            "The field “Gerät” is of the type “Drop down” but has no choices. "
            "Please add at least one."
        ]
    }


def test_every_name_of_the_form_is_reserved():
    reserved = set(FORM_OWN_NAMES).union(*FIXED_FIELD_NAMES.values())
    assert set(CORE_FIELDS) | set(TRAP_FIELDS) <= reserved
    assert set(FIXED_FIELD_NAMES) == set(CORE_FIELDS)


def test_the_contact_page_edits_with_this_form():
    assert issubclass(ContactPage.get_edit_handler().get_form_class(), ContactPageForm)


def test_a_new_contact_page_is_checked_too(site, editor_client):
    add = reverse(
        "wagtailadmin_pages:add",
        args=("vivadesk_wagtail", "contactpage", site.get_parent().pk),
    )
    page = refused(
        editor_client.post(
            add,
            contact_page_post(
                None, extra("Betreff"), title="Reklamation", slug="reklamation"
            ),
        )
    )
    assert field_errors(page, 0, "label").startswith("Das Feld „Betreff“ ist immer")
    assert not ContactPage.objects.filter(slug="reklamation").exists()
    response = editor_client.post(
        add,
        contact_page_post(
            None, extra("Seriennummer"), title="Reklamation", slug="reklamation"
        ),
    )
    assert response.status_code == 302
    assert ContactPage.objects.get(slug="reklamation").form_fields.get().clean_name == (
        "seriennummer"
    )
