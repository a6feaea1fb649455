"""The contact page editor explains itself to an editor (Wagtail's "Editors"
group): the fixed fields shown read-only above the extra ones, the page
type's description, help texts, and extra fields headed by their labels."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import pytest
import wagtail
from django.urls import reverse
from wagtail.users.models import UserProfile

from vivadesk_wagtail.models import ContactFormField
from vivadesk_wagtail.pages.forms import CORE_FIELDS, ContactCoreForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def edit_page(client, page) -> str:
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert response.status_code == 200
    return response.content.decode()


def fixed_panel(page_html: str) -> str:
    """The fixed-fields list of the editor, from its first item to the note."""
    start = page_html.index('class="vd-fixed-fields"')
    return page_html[start : page_html.index("</p>", start)]


def test_the_fixed_fields_are_listed_read_only_above_the_extra_fields(
    site, editor_client
):
    page = edit_page(editor_client, site)
    panel = fixed_panel(page)
    for name in CORE_FIELDS:
        label = str(ContactCoreForm.base_fields[name].label)
        item = re.search(rf'data-fixed-field="{name}">(.*?)</li>', panel, re.S)
        assert item, name
        assert html.escape(label) in item.group(1)
        assert "immer vorhanden" in item.group(1)
        assert f'name="{name}"' not in panel  # shown, not editable
    assert "Feste Formularfelder" in page
    assert "Die zusätzlichen Felder, die Sie unten anlegen, folgen darauf" in panel
    assert page.index("vd-fixed-fields") < page.index('id="id_form_fields-FORMS"')


def test_german_labels_of_the_fixed_fields(site, editor_client):
    panel = fixed_panel(edit_page(editor_client, site))
    for label in ("Name", "E-Mail-Adresse", "Betreff", "Ihre Nachricht", "Anhänge"):
        assert f"<strong>{label}</strong>" in panel


def test_an_extra_field_is_headed_by_its_label_and_type(site, editor_client):
    ContactFormField.objects.create(
        page=site, label="Kaufdatum", field_type="date", required=False
    )
    page = edit_page(editor_client, site)
    headings = re.findall(r'data-vd-form-field-heading-target="text">([^<]*)<', page)
    assert "Kaufdatum (Datum)" in headings
    assert "Kundennummer (falls vorhanden) (Einzeiliger Text)" in headings
    assert "data-inline-panel-child-count" not in page


def test_a_new_row_is_headed_until_its_label_is_typed(site, editor_client):
    page = edit_page(editor_client, site)
    template = page[page.index('id="id_form_fields-EMPTY_FORM_TEMPLATE"') :]
    assert 'data-controller="vd-form-field-heading"' in template
    assert 'data-vd-form-field-heading-prefix-value="form_fields-__prefix__"' in (
        template
    )
    assert 'data-vd-form-field-heading-format-value="{label} ({type})"' in template
    assert 'data-vd-form-field-heading-target="text">Neues Feld<' in template
    assert "vivadesk_wagtail/js/form_field_heading.js" in page


def test_help_texts_of_intro_thank_you_text_and_category(site, editor_client):
    page = edit_page(editor_client, site)
    assert "Wird über dem Formular angezeigt" in page
    assert "Wird nach dem Absenden auf der Dankesseite angezeigt" in page
    assert "damit die richtigen Mitarbeiter sie sehen" in page


def test_the_page_type_describes_itself_when_a_page_is_created(site, editor_client):
    parent = site.get_parent()
    response = editor_client.get(
        reverse("wagtailadmin_pages:add_subpage", args=[parent.pk])
    )
    assert response.status_code == 200
    assert "Anfragen der Besucher werden zu Tickets im HelpDesk" in (
        response.content.decode()
    )


def test_the_editor_in_english(site, editor, editor_client):
    profile = UserProfile.get_for_user(editor)
    profile.preferred_language = "en"
    profile.save()
    page = edit_page(editor_client, site)
    panel = fixed_panel(page)
    assert "<strong>E-mail address</strong>" in panel
    assert "always present" in panel
    assert "Customer number (if you have one)" not in page  # the German page
    assert "Kundennummer (falls vorhanden) (Single line text)" in page


#: Wagtail's templates that ``pages/admin/form_fields_panel.html`` and
#: ``form_field_child.html`` copy (Wagtail 8.0), by their SHA-256.
COPIED_TEMPLATES = {
    "inline_panel.html": (
        "195bb0b199edb062dcf41a5a92ecabf5bae52a6eac06823eb3cd12b799be4f89"
    ),
    "inline_panel_child.html": (
        "f8db4840ba05955302a4cc4e1ac57df5587dba834f6425d9d42fb5f96650e289"
    ),
}


def test_the_copied_inline_panel_templates_are_wagtails_current_ones():
    """Fails when Wagtail changes them: bring the copies in step, then
    update the digests."""
    panels = Path(wagtail.__file__).parent / "admin/templates/wagtailadmin/panels"
    for name, digest in COPIED_TEMPLATES.items():
        assert hashlib.sha256((panels / name).read_bytes()).hexdigest() == digest
