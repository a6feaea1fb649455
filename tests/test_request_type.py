"""The request type on the ticket: the contact page a request came from,
seen and filtered by agents, counted on the page for its editors; Wagtail's
"Forms" menu leaves contact pages out; languages by name in the admin."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import translation
from wagtail.models import GroupPagePermission

from tests import factories, staff_support
from tests.pages_support import post
from vivadesk_wagtail.languages import language_name
from vivadesk_wagtail.models import (
    CaughtSubmission,
    ContactFormField,
    ContactPage,
    Ticket,
)
from vivadesk_wagtail.services import spam

pytestmark = pytest.mark.django_db(transaction=True)


def _english(site):
    return ContactPage.objects.get(
        translation_key=site.translation_key, locale__language_code="en"
    )


def _listing(client, **query):
    return client.get(staff_support.url("list"), {"show": "all", **query})


def _references(response) -> set[str]:
    return set(re.findall(r"VIVA-\d+", response.content.decode()))


def test_the_ticket_stores_the_language_version_it_was_sent_from(site):
    post(Client(), "/de/kontakt/", email="de@example.com")
    post(Client(), "/en/contact/", email="en@example.com")
    german = Ticket.objects.get(customer__email="de@example.com")
    english = Ticket.objects.get(customer__email="en@example.com")
    assert german.contact_page_id == site.pk
    assert english.contact_page_id == _english(site).pk


def test_a_mail_or_staff_ticket_has_no_contact_page(db):
    assert factories.ticket().contact_page is None


def test_a_caught_post_accepted_by_an_agent_keeps_its_page(site, settings, agent):
    settings.VIVADESK = {**settings.VIVADESK, "MIN_FILL_SECONDS": 3600}
    post(Client(), "/en/contact/", email="slow@example.com")
    row = CaughtSubmission.objects.get(email="slow@example.com")
    assert row.contact_page_id == _english(site).pk
    outcome = spam.accept(row.pk, by=agent)
    assert outcome.ticket.contact_page_id == _english(site).pk


def test_agents_filter_the_listing_by_page_across_its_languages(site, agent_client):
    post(Client(), "/de/kontakt/", email="de@example.com")
    post(Client(), "/en/contact/", email="en@example.com")
    by_mail = factories.ticket()
    from_page = {t.reference for t in Ticket.objects.exclude(pk=by_mail.pk)}
    assert len(from_page) == 2

    for version in (site, _english(site)):
        key = version.translation_key
        shown = _references(_listing(agent_client, contact_page=key))
        assert shown == from_page
    assert by_mail.reference in _references(_listing(agent_client))


def test_the_page_filter_offers_only_contact_pages(site, agent_client):
    """One choice per page and its translations, in the agent's language; a
    forged value falls back to the open tickets."""
    post(Client(), "/de/kontakt/", email="de@example.com")
    factories.ticket(subject="per Mail")
    forged = _listing(agent_client, contact_page="' OR 1=1 --")
    assert forged.status_code == 200
    assert len(_references(forged)) == 2
    html = _listing(agent_client).content.decode()
    key = site.translation_key
    assert f'<option value="{key}">Contact</option>' in html
    assert html.count(f'<option value="{key}"') == 1


def test_the_ticket_screen_names_the_page_and_links_its_requests(site, agent_client):
    post(Client(), "/en/contact/", email="en@example.com")
    ticket = Ticket.objects.get()
    html = agent_client.get(staff_support.screen_url(ticket)).content.decode()
    assert '<a href="/en/contact/">Contact</a>' in html
    assert f"?contact_page={site.translation_key}&amp;show=all" in html
    # The agent's admin speaks English: the language by its name.
    assert "<dd>English</dd>" in html


def test_languages_show_by_name(db):
    with translation.override("de"):
        assert language_name("en") == "Englisch"
        assert language_name("de") == "Deutsch"
    with translation.override("en"):
        assert language_name("de") == "German"
    assert language_name("xx-nonsense") == "xx-nonsense"
    assert language_name("") == "–"


def _edit_page(client, page):
    return client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))


def test_the_page_editor_shows_the_number_of_requests(site, agent_client, editor):
    post(Client(), "/de/kontakt/", email="de@example.com")
    post(Client(), "/en/contact/", email="en@example.com")
    factories.ticket()

    html = _edit_page(agent_client, site).content.decode()
    assert "2 requests were sent through this page (all languages)." in html
    assert f"?contact_page={site.translation_key}&amp;show=all" in html

    GroupPagePermission.objects.get_or_create(
        group=editor.groups.get(),
        page=site.get_parent(),
        permission=Permission.objects.get(codename="change_page"),
    )
    editor_client = Client()
    editor_client.force_login(editor)
    response = _edit_page(editor_client, site)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Anfragen wurden über diese Seite gesendet (alle Sprachen)." in html
    assert "contact_page=" not in html  # the help desk is for agents only


def test_wagtails_forms_menu_leaves_contact_pages_out(site, agent_client):
    post(Client(), "/de/kontakt/")
    html = agent_client.get(reverse("wagtailforms:index")).content.decode()
    assert "Kontakt" not in html
    assert reverse("wagtailforms:list_submissions", args=[site.pk]) not in html


def test_form_answers_read_in_the_readers_language(site, agent_client):
    post(Client(), "/de/kontakt/", email="de@example.com", customer_number="K-7")
    ticket = Ticket.objects.get()
    assert ticket.form_data[0]["label"] == "Kundennummer (falls vorhanden)"
    html = agent_client.get(staff_support.screen_url(ticket)).content.decode()
    assert "<dt>Customer number (if you have one)</dt>" in html
    assert "Kundennummer" not in html
    # Without its page (deleted since): the rows as they were stored.
    Ticket.objects.filter(pk=ticket.pk).update(contact_page=None)
    html = agent_client.get(staff_support.screen_url(ticket)).content.decode()
    assert "<dt>Kundennummer (falls vorhanden)</dt>" in html


def test_the_customer_reads_the_answers_in_the_portals_language(site):
    client = Client()
    client.force_login(factories.customer("de@example.com"))
    post(client, "/de/kontakt/", email="de@example.com", customer_number="K-7")
    ticket = Ticket.objects.get()
    for language, label in (
        ("en", "Customer number (if you have one)"),
        ("de", "Kundennummer (falls vorhanden)"),
    ):
        with translation.override(language):
            url = reverse("vivadesk_wagtail:ticket", args=[ticket.reference])
        html = client.get(url).content.decode()
        assert f"<dt>{label}</dt><dd>K-7</dd>" in html


@pytest.mark.parametrize(
    ("language", "stored", "shown"),
    [
        ("de", "2026-11-20", "20. November 2026"),
        ("en", "2026-11-20", "20 Nov 2026"),
        ("de", "kein Datum", "kein Datum"),
        ("de", "2026-02-30", "2026-02-30"),
    ],
)
def test_date_answers_read_in_the_readers_format(language, stored, shown):
    field = ContactFormField(field_type="date", label="Kaufdatum", clean_name="k")
    row = {"name": "k", "label": "Kaufdatum", "value": stored}
    with translation.override(language):
        assert ContactPage.answer(row, field)["value"] == shown
