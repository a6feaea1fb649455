"""Editors (Wagtail's "Editors" group) pick a contact page's category through
the category chooser; everything else about categories stays with agents
and administrators, and the chooser shows no ticket data."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests import factories, staff_support
from tests.pages_support import contact_page_post
from tests.staff_support import assert_denied
from vivadesk_wagtail.models import Category, ContactPage, MessageKind
from vivadesk_wagtail.services import tickets

pytestmark = pytest.mark.django_db

CHOOSER = "wagtailsnippetchoosers_vivadesk_wagtail_category"
ADMIN = "wagtailsnippets_vivadesk_wagtail_category"


@pytest.fixture
def category(db):
    return Category.objects.create(name="Reklamation")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def modal_html(response) -> str:
    assert response.status_code == 200, response.status_code
    return json.loads(response.content)["html"]


def test_an_editor_lists_searches_and_picks_categories(category, editor_client):
    listing = modal_html(editor_client.get(reverse(f"{CHOOSER}:choose")))
    assert "Reklamation" in listing
    results = editor_client.get(reverse(f"{CHOOSER}:choose_results"), {"q": "Rekl"})
    assert results.status_code == 200
    assert "Reklamation" in results.content.decode()
    chosen = editor_client.get(reverse(f"{CHOOSER}:chosen", args=[category.pk]))
    assert chosen.status_code == 200
    result = json.loads(chosen.content)["result"]
    assert result["string"] == "Reklamation"
    assert not result.get("edit_url")  # editing categories is not theirs


def test_the_chooser_offers_editors_no_way_to_create_a_category(editor_client):
    listing = modal_html(editor_client.get(reverse(f"{CHOOSER}:choose")))
    assert reverse(f"{CHOOSER}:create") not in listing
    assert_denied(editor_client.get(reverse(f"{CHOOSER}:create")))
    response = editor_client.post(reverse(f"{CHOOSER}:create"), {"name": "Neu"})
    assert_denied(response)
    assert not Category.objects.filter(name="Neu").exists()


def test_with_no_category_yet_editors_are_not_sent_to_create_one(editor_client):
    assert not Category.objects.exists()
    listing = modal_html(editor_client.get(reverse(f"{CHOOSER}:choose")))
    assert "Es gibt noch keine Kategorie zur Auswahl." in listing
    assert reverse(f"{ADMIN}:add") not in listing


def test_the_category_admin_stays_closed_to_editors(category, editor_client):
    for name, args in [
        ("list", ()),
        ("list_results", ()),
        ("add", ()),
        ("edit", (category.pk,)),
        ("delete", (category.pk,)),
        ("history", (category.pk,)),
        ("usage", (category.pk,)),
    ]:
        address = reverse(f"{ADMIN}:{name}", args=args)
        assert_denied(editor_client.get(address), address)
    response = editor_client.post(reverse(f"{ADMIN}:add"), {"name": "Neu"})
    assert_denied(response)
    assert not Category.objects.filter(name="Neu").exists()


def test_admin_access_without_page_permissions_is_not_enough(client, category):
    user = factories.StaffFactory(username="reader")
    user.groups.add(staff_support.group("Readers", "wagtailadmin.access_admin"))
    client.force_login(user)
    for name, args in [("choose", ()), ("chosen", (category.pk,))]:
        address = reverse(f"{CHOOSER}:{name}", args=args)
        assert_denied(client.get(address), address)


def test_agents_still_use_the_chooser(agent_client, category):
    assert "Reklamation" in modal_html(agent_client.get(reverse(f"{CHOOSER}:choose")))


def test_the_chooser_shows_no_ticket_data(category, editor_client):
    tickets.open_ticket(
        customer=factories.customer(),
        subject="Zebraquokka druckt nicht",
        first=tickets.NewMessage(body="Narwhalbody", kind=MessageKind.CUSTOMER),
        category=category,
    )
    listing = modal_html(editor_client.get(reverse(f"{CHOOSER}:choose")))
    results = editor_client.get(reverse(f"{CHOOSER}:choose_results")).content.decode()
    chosen = editor_client.get(reverse(f"{CHOOSER}:chosen", args=[category.pk]))
    for answer in (listing, results, chosen.content.decode()):
        assert "Reklamation" in answer
        assert "Zebraquokka" not in answer
        assert "Narwhalbody" not in answer
        assert "VIVA-" not in answer


def test_an_editor_saves_the_page_with_a_category(site, category, editor_client):
    data = contact_page_post(site, category=str(category.pk))
    page_editor = reverse("wagtailadmin_pages:edit", args=[site.pk])
    editor_form = editor_client.get(page_editor).content.decode()
    assert reverse(f"{CHOOSER}:choose") in editor_form  # the chooser widget
    response = editor_client.post(page_editor, data)
    assert response.status_code == 302
    draft = ContactPage.objects.get(pk=site.pk).get_latest_revision_as_object()
    assert draft.category == category


def test_the_translation_editor_reads_categories_not_tickets(
    category, ticket, editor_client
):
    """wagtail-localize's snippet API (routed through the help desk's guard,
    ``staff.admin_routes``) shows a page's category to editors."""
    api = "/admin/localize/api/snippets/vivadesk_wagtail/{}/"
    assert "Reklamation" in editor_client.get(api.format("category")).content.decode()
    assert_denied(editor_client.get(api.format("ticket")))
