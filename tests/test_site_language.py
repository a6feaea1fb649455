"""The site speaks the visitor's language: German or English where the
browser asks for one of them, English where it asks only for languages the
site does not offer, German where it names none (the customer guide: "Ist
diese nicht verfügbar, wird die Benutzeroberfläche in englischer Sprache
dargestellt")."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("accept", "prefix"),
    [
        ("de-DE,de;q=0.9", "/de/"),
        ("de-AT", "/de/"),
        ("en-GB,en;q=0.8", "/en/"),
        ("fr-FR,fr;q=0.9", "/en/"),
        ("pl,ru;q=0.5", "/en/"),
        ("fr-FR,de;q=0.5", "/de/"),
        ("fr-FR,en;q=0.5", "/en/"),
        ("", "/de/"),
        ("*", "/de/"),
    ],
)
def test_the_home_address_leads_to_the_browsers_language(site, accept, prefix):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    response = Client().get("/", **headers)
    assert response.status_code == 302
    assert response["Location"] == prefix


def test_a_chosen_language_wins_over_the_browsers(site, settings):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert response["Location"] == "/de/"


def test_a_french_browser_reads_the_help_desk_pages_in_english(site):
    response = Client().get("/helpdesk/login/", HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert response["Location"] == "/en/helpdesk/login/"
    page = Client().get("/en/helpdesk/login/", HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert '<html lang="en">' in page.content.decode()
