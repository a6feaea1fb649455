"""The contact form's spam traps (issue 16, item 1): the honeypot is for bots
only, and what the traps catch is kept, never answered with a made-up ticket
id, never mailed.

The browser's view of the honeypot (not visible, not in the accessibility
tree, not reached by Tab) is asserted in ``tests/e2e/test_journey.py``.
"""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.pages_support import post
from vivadesk_wagtail.models import (
    CaughtSubmission,
    CustomerProfile,
    OutboundEmail,
    Ticket,
)
from vivadesk_wagtail.pages.forms import HONEYPOT
from vivadesk_wagtail.storage import private_storage

pytestmark = pytest.mark.django_db(transaction=True)

CSS = (
    Path(__file__).resolve().parents[1]
    / "vivadesk_wagtail/static/vivadesk_wagtail/css/vivadesk.css"
)
#: Words browsers' and password managers' autofill heuristics look for in a
#: field's name, id or autocomplete token (Chromium's autofill regexes,
#: Firefox's form-autofill heuristics, 1Password/Bitwarden field names).
AUTOFILL_WORDS = (
    "name", "mail", "phone", "tel", "mobile", "company", "organi", "address",
    "street", "city", "zip", "postal", "country", "state", "url", "website",
    "homepage", "web", "user", "login", "pass", "card", "cc", "birth", "title",
    "fax", "contact",
)  # fmt: skip
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def honeypot_of(html: str):
    soup = BeautifulSoup(html, "html.parser")
    (field,) = soup.select(f"form.vivadesk-form [name={HONEYPOT}]")
    return soup, field


@pytest.mark.parametrize("url", ["/de/kontakt/", "/en/contact/"])
def test_the_honeypot_is_hidden_without_css_and_from_assistive_technology(
    site, client, url
):
    soup, field = honeypot_of(client.get(url).content.decode())
    container = field.find_parent("div")
    assert container.has_attr("hidden")
    assert container["aria-hidden"] == "true"
    assert "vivadesk-hp" in container["class"]
    # Its label is inside the hidden container too: nothing of it shows.
    label = soup.find("label", attrs={"for": field["id"]})
    assert label.find_parent("div") is container
    assert field["tabindex"] == "-1"
    assert field["autocomplete"] == "off"
    assert field["type"] == "text"
    for attribute in ("name", "id"):
        value = field[attribute].lower()
        for word in AUTOFILL_WORDS:
            assert word not in value, (attribute, value, word)
    # Not one of the form's visible fields (no field wrapper of its own).
    wrappers = soup.select(".vivadesk-field")
    assert all(not w.select(f"[name={HONEYPOT}]") for w in wrappers)


def test_the_apps_stylesheet_keeps_the_honeypot_hidden():
    css = CSS.read_text()
    rule = re.search(r"\.vivadesk-hp[^{]*\{([^}]*)\}", css)
    assert rule, "no rule for .vivadesk-hp"
    assert "display: none !important" in rule.group(1)


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({HONEYPOT: "https://cheap.example/pills"}, "honeypot"),
        ({"shown": "forged"}, "forged"),
        ({}, "too_fast"),
    ],
    ids=["honeypot", "forged-stamp", "too-fast"],
)
def test_a_caught_post_gets_an_honest_page_without_a_ticket_id(
    site, settings, overrides, reason
):
    if reason == "too_fast":
        settings.VIVADESK = {**settings.VIVADESK, "MIN_FILL_SECONDS": 60}
    settings.VIVADESK = {**settings.VIVADESK, "HELPDESK_PHONE": "+49 30 1234567"}
    response = post(Client(), "/en/contact/", **overrides)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thank you" in html
    assert not re.search(r"VIVA-\d", html), "a Ticket ID that does not exist"
    assert "spam filter has set it aside" in html
    assert "it has no Ticket ID yet and we have not sent you an e-mail" in html
    assert 'href="tel:+49301234567"' in html
    row = CaughtSubmission.objects.get()
    assert row.reason == reason
    assert not Ticket.objects.exists()
    assert not OutboundEmail.objects.exists() and mail.outbox == []
    assert not CustomerProfile.objects.exists()
    assert not get_user_model().objects.filter(email="erika@example.com").exists()


def test_a_caught_post_is_kept_with_everything_the_form_took(site, client):
    pdf = SimpleUploadedFile("rechnung.pdf", PDF, "application/pdf")
    post(
        client,
        "/de/kontakt/",
        **{HONEYPOT: "https://cheap.example/" + "x" * 400},
        attachments=[pdf],
        subject="Drucker\r\nBcc: x@evil.example",
    )
    row = CaughtSubmission.objects.get()
    assert (row.name, row.email) == ("Erika Mustermann", "erika@example.com")
    assert row.subject == "Drucker Bcc: x@evil.example"
    assert row.message == "Seit gestern druckt der Drucker nicht mehr."
    assert row.language == "de"
    assert row.category.name == "Allgemein"
    assert row.form_data == [
        {
            "name": "customer_number",
            "label": "Kundennummer (falls vorhanden)",
            "value": "K-42",
        }
    ]
    assert row.trap_value.startswith("https://cheap.example/")
    assert len(row.trap_value) == 300
    assert row.idempotency_key
    (kept,) = row.files
    assert (kept["name"], kept["size"]) == ("rechnung.pdf", len(PDF))
    assert kept["content_type"] == "application/pdf"
    assert kept["path"].startswith("vivadesk/spam/") and "rechnung" not in kept["path"]
    with private_storage().open(kept["path"]) as stored:
        assert stored.read() == PDF
    assert row.kept_bytes == len(PDF)


def test_caught_files_beyond_the_space_for_them_are_listed_not_kept(site, settings):
    settings.VIVADESK = {**settings.VIVADESK, "SPAM_FILES_MAX_BYTES": len(PDF) + 10}
    for n in range(2):
        pdf = SimpleUploadedFile(f"teil{n}.pdf", PDF, "application/pdf")
        post(Client(), "/de/kontakt/", **{HONEYPOT: "x"}, attachments=[pdf])
    first, second = CaughtSubmission.objects.order_by("pk")
    assert first.files[0]["path"] and first.kept_bytes == len(PDF)
    assert second.files == [
        {
            "path": "",
            "name": "teil1.pdf",
            "size": len(PDF),
            "content_type": "application/pdf",
        }
    ]
    assert second.kept_bytes == 0


def test_a_filled_field_an_editor_names_website_is_no_trap(site, client):
    """The old honeypot name is free: a post that fills "website" (an
    editor's field, an old page) is a person's."""
    post(client, "/de/kontakt/", website="https://www.example.com")
    assert Ticket.objects.count() == 1
    assert not CaughtSubmission.objects.exists()
