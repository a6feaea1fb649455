"""In a real browser, the contact page editor heads each extra field with its
label and type, and the heading follows while an editor (Wagtail's "Editors"
group) types a new field's label and picks its type."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect
from wagtail.models import GroupPagePermission, Page

from tests import factories, staff_support
from vivadesk_wagtail.models import ContactPage

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


@pytest.fixture
def editor_session(live_server):
    """The demo site and the session cookie of a user in the "Editors" group
    as Wagtail's migration sets it up (a flushed database has lost it)."""
    call_command("vivadesk_demo", stdout=open("/dev/null", "w"))
    group = staff_support.group("Editors", "wagtailadmin.access_admin")
    root = Page.get_first_root_node()
    for codename in ("add_page", "change_page"):
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=root,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    user = factories.StaffFactory(username="editor")
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    return {
        "name": "sessionid",
        "value": client.cookies["sessionid"].value,
        "url": live_server.url,
    }


def test_the_heading_of_an_extra_field_follows_its_label(
    live_server, editor_session, new_page, shot
):
    contact = ContactPage.objects.get(slug="kontakt")
    page = new_page()
    page.context.add_cookies([editor_session])
    page.goto(live_server.url + reverse("wagtailadmin_pages:edit", args=[contact.pk]))
    page.locator(".vd-fixed-fields").scroll_into_view_if_needed()
    shot(page, "fixed-fields")
    headings = page.locator("[data-vd-form-field-heading-target=text]")
    expect(headings.first).to_have_text(
        "Kundennummer (falls vorhanden) (Einzeiliger Text)"
    )

    page.click("#id_form_fields-ADD")
    new = headings.nth(1)
    expect(new).to_have_text("Neues Feld")
    page.fill("#id_form_fields-1-label", "Kaufdatum")
    expect(new).to_have_text("Kaufdatum")  # no type picked yet
    choices = page.locator("#inline_child_form_fields-1 .formbuilder-choices")
    expect(choices).to_be_hidden()  # a single-line text has no choices
    page.select_option("#id_form_fields-1-field_type", "dropdown")
    expect(choices).to_be_visible()
    page.select_option("#id_form_fields-1-field_type", "date")
    expect(new).to_have_text("Kaufdatum (Datum)")
    expect(choices).to_be_hidden()
    page.fill("#id_form_fields-1-label", "")
    expect(new).to_have_text("Neues Feld")

    page.fill("#id_form_fields-0-label", "Kundennummer")
    expect(headings.first).to_have_text("Kundennummer (Einzeiliger Text)")
    shot(page, "editor-headings")
