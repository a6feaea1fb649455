"""The privacy notice a visitor saw under the contact form is kept with the
ticket (``services.consent``): the version of the form's GET, even when an
editor published a new notice before the post; agents see it on the ticket
screen."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime
from wagtail.models import Locale

from tests import factories
from tests.pages_support import form_data
from tests.staff_support import screen_url
from vivadesk_wagtail.models import Channel, ContactPage, PrivacyNoticeVersion, Ticket
from vivadesk_wagtail.models.privacy import notice_digest
from vivadesk_wagtail.pages.forms import HONEYPOT, NOTICE
from vivadesk_wagtail.services import consent

pytestmark = pytest.mark.django_db(transaction=True)

GERMAN = "/de/kontakt/"
ENGLISH = "/en/contact/"
NEW_NOTICE = "<p>Neu: Wir löschen Ihre Anfrage nach <b>zwei Jahren</b>.</p>"


def shown_digest(client, url: str) -> str:
    """The notice digest the form at ``url`` carries."""
    html = client.get(url).content.decode()
    field = re.search(rf'<input type="hidden" name="{NOTICE}"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', field)
    return value.group(1) if value else ""


def send(client, url: str, email: str = "erika@example.com", **overrides) -> Ticket:
    """Post the form at ``url`` as a visitor; the ticket it opened."""
    before = set(Ticket.objects.values_list("pk", flat=True))
    response = client.post(url, form_data(client, url, email=email, **overrides))
    assert response.status_code == 200
    (ticket,) = Ticket.objects.exclude(pk__in=before)
    return ticket


def publish_notice(page: ContactPage, text: str) -> ContactPage:
    page = ContactPage.objects.get(pk=page.pk)
    page.privacy_notice = text
    page.save_revision().publish()
    return ContactPage.objects.get(pk=page.pk)


def english(site: ContactPage) -> ContactPage:
    return site.get_translation(Locale.objects.get(language_code="en"))


def test_the_form_carries_the_digest_and_the_post_stores_the_current_notice(
    site, client
):
    assert site.privacy_notice.startswith("<p>Mit dem Absenden")
    assert shown_digest(client, GERMAN) == notice_digest(site.privacy_notice)

    ticket = send(client, GERMAN)

    version = ticket.privacy_notice
    assert version.text == site.privacy_notice
    assert version.sha256 == notice_digest(site.privacy_notice)
    assert version.language == "de"


def test_two_posts_of_the_same_notice_share_one_row(site, client):
    first = send(client, GERMAN)
    second = send(Client(), GERMAN, email="max@example.com")

    assert PrivacyNoticeVersion.objects.count() == 1
    assert first.privacy_notice_id == second.privacy_notice_id is not None


def test_a_notice_published_while_the_form_was_open_records_the_old_one(site, client):
    old = site.privacy_notice
    seen = shown_digest(client, GERMAN)
    publish_notice(site, NEW_NOTICE)
    assert not PrivacyNoticeVersion.objects.exists()  # only in the revisions

    ticket = send(client, GERMAN, **{NOTICE: seen})
    later = send(Client(), GERMAN, email="max@example.com")

    assert ticket.privacy_notice.text == old
    assert ticket.privacy_notice.language == "de"
    assert later.privacy_notice.text == NEW_NOTICE
    assert PrivacyNoticeVersion.objects.count() == 2


def test_a_stored_version_is_found_without_the_revisions(site, client):
    old = send(client, GERMAN).privacy_notice
    seen = old.sha256
    publish_notice(site, NEW_NOTICE)
    site.revisions.exclude(pk=site.revisions.latest("created_at").pk).delete()

    ticket = send(Client(), GERMAN, email="max@example.com", **{NOTICE: seen})

    assert ticket.privacy_notice == old


@pytest.mark.parametrize(
    "posted", ["0" * 64, "a" * 100, "not a digest", "", "<p>Mit dem Absenden</p>", None]
)
def test_an_unknown_tampered_or_missing_digest_records_the_current_notice(
    site, client, posted
):
    data = form_data(client, GERMAN, **{NOTICE: posted})
    if posted is None:
        del data[NOTICE]

    assert client.post(GERMAN, data).status_code == 200

    assert Ticket.objects.get().privacy_notice.text == site.privacy_notice


def test_another_pages_digest_in_the_revisions_is_not_taken(site, client):
    """Only the page's own revisions count: the English notice's digest on
    the German form is tampering."""
    other = english(site).privacy_notice

    ticket = send(client, GERMAN, **{NOTICE: notice_digest(other)})

    assert ticket.privacy_notice.text == site.privacy_notice


def test_the_english_page_records_the_english_notice(site, client):
    page = english(site)
    assert page.privacy_notice.startswith("<p>By sending this form")
    assert shown_digest(client, ENGLISH) == notice_digest(page.privacy_notice)

    ticket = send(client, ENGLISH)

    assert ticket.privacy_notice.text == page.privacy_notice
    assert ticket.privacy_notice.language == "en"


def test_a_page_without_notice_records_none(site, client):
    publish_notice(site, "")

    assert shown_digest(client, GERMAN) == ""
    ticket = send(client, GERMAN, **{NOTICE: notice_digest(site.privacy_notice)})

    assert ticket.privacy_notice is None
    assert not PrivacyNoticeVersion.objects.exists()


def test_showing_the_form_writes_no_version(site, client):
    for url in (GERMAN, ENGLISH, GERMAN):
        assert client.get(url).status_code == 200
    # An invalid post shows the form again, with the notice it shows now.
    seen = shown_digest(client, GERMAN)
    publish_notice(site, NEW_NOTICE)
    response = client.post(
        GERMAN, form_data(client, GERMAN, subject="", **{NOTICE: seen})
    )

    assert response.status_code == 200
    assert f'name="{NOTICE}" value="{notice_digest(NEW_NOTICE)}"' in (
        response.content.decode()
    )
    assert not Ticket.objects.exists()
    assert not PrivacyNoticeVersion.objects.exists()


def test_a_caught_post_records_no_version(site, client):
    response = client.post(GERMAN, form_data(client, GERMAN, **{HONEYPOT: "x"}))

    assert response.status_code == 200
    assert not Ticket.objects.exists()
    assert not PrivacyNoticeVersion.objects.exists()


def test_record_keeps_one_row_per_text(site):
    first = consent.record(consent.current(site))
    again = consent.record(consent.current(site))

    assert first.pk == again.pk
    assert consent.record(first) is first
    assert consent.record(None) is None
    assert PrivacyNoticeVersion.objects.count() == 1


def test_the_agent_sees_the_version_on_the_ticket_screen(site, client, agent_client):
    ticket = send(client, GERMAN)
    version = ticket.privacy_notice

    with translation.override("en"):
        shown = date_format(localtime(version.created_at), "DATE_FORMAT")
        html = agent_client.get(screen_url(ticket)).content.decode()

    block = re.search(
        r'<section class="vd-section vd-consent".*?</section>', html, re.S
    ).group(0)
    assert "<details>" in block
    assert "Privacy notice" in block
    assert f"<strong>Privacy notice</strong> · Version of {shown}</summary>" in block
    # The editor's rich text, its page link resolved.
    assert "Mit dem Absenden stimmen Sie zu" in block
    assert '<a href="/en/privacy-policy/">Datenschutzerklärung</a>' in block
    assert 'linktype="page"' not in block


def test_the_screen_shows_no_notice_for_a_mail_ticket(agent_client):
    ticket = factories.ticket(channel=Channel.EMAIL)

    html = agent_client.get(screen_url(ticket)).content.decode()

    assert ticket.privacy_notice is None
    assert "vd-consent" not in html
