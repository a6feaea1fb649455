"""The reference site's page types and demo pages: home page sections, the
help-desk guide, imprint and privacy policy in German and English, the footer
with the company details and the legal links, and where editors may add
each page type."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.text import slugify
from wagtail.models import Page, Site

from home.management import demo_content
from home.management.commands.vivadesk_demo import (
    CONTACT_EN,
    HOME_EN,
    PRIVACY_NOTICE_EN,
)
from home.models import ContentPage, HomePage, ImprintPage, PrivacyPage
from vivadesk_wagtail import conf
from vivadesk_wagtail.models import CompanyDetails, ContactPage

pytestmark = pytest.mark.django_db

PAGES = {
    "home": ("/de/", "/en/"),
    "helpdesk": ("/de/so-funktioniert-unser-helpdesk/", "/en/how-our-helpdesk-works/"),
    "imprint": ("/de/impressum/", "/en/legal-notice/"),
    "privacy": ("/de/datenschutz/", "/en/privacy-policy/"),
}
DEMO_MODELS = (HomePage, ContentPage, ImprintPage, PrivacyPage, ContactPage)


def run_demo(capture):
    # wagtail-localize publishes a translation when the transaction commits
    with capture(execute=True):
        call_command("vivadesk_demo", stdout=io.StringIO())


@pytest.fixture
def demo(django_capture_on_commit_callbacks):
    run_demo(django_capture_on_commit_callbacks)


def counts():
    return {model.__name__: model.objects.count() for model in DEMO_MODELS} | {
        "Page": Page.objects.count()
    }


def html_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def part(html, tag, cls):
    """The first ``<tag class="cls…">…</tag>`` of the page (no nesting)."""
    match = re.search(rf'<{tag} class="{cls}[^"]*".*?</{tag}>', html, re.S)
    assert match, f"no {tag}.{cls}"
    return match.group(0)


def german_strings():
    """Every German string of the demo pages that reads differently in
    English (markup-free, as the page renders it)."""
    texts = demo_content.Texts()
    email = conf.helpdesk_email()
    demo_content.home_body(texts, 1, email)
    demo_content.helpdesk_page(texts, 1, email)
    demo_content.imprint_page(texts, email)
    demo_content.privacy_page(texts, email)
    return [
        de
        for de, en in texts.en.items()
        if de != en and "<" not in de and de != slugify(de)  # slugs: in links
    ]


# -- demo data -----------------------------------------------------------------


def test_the_demo_makes_each_page_in_german_and_english(demo):
    for model in (HomePage, ContentPage, ImprintPage, PrivacyPage):
        languages = sorted(
            model.objects.live().values_list("locale__language_code", flat=True)
        )
        assert languages == ["de", "en"], model.__name__


def test_running_the_demo_again_changes_nothing(
    demo, django_capture_on_commit_callbacks
):
    before = counts()
    run_demo(django_capture_on_commit_callbacks)
    assert counts() == before


def test_an_older_demo_gets_the_missing_pages_and_sections(
    demo, django_capture_on_commit_callbacks
):
    for model in (ContentPage, ImprintPage, PrivacyPage):
        for page in model.objects.filter(locale__language_code="en"):
            page.delete()
        for page in model.objects.all():
            page.delete()
    home = HomePage.objects.get(locale__language_code="de")
    home.body = []
    home.save_revision().publish()
    run_demo(django_capture_on_commit_callbacks)
    for model in (ContentPage, ImprintPage, PrivacyPage):
        assert model.objects.live().count() == 2, model.__name__
    english = HomePage.objects.get(locale__language_code="en")
    assert [block.block_type for block in english.body] == [
        "hero",
        "features",
        "steps",
        "text",
    ]


def test_the_english_demo_pages_hold_no_german(client, demo):
    german = german_strings()
    assert len(german) > 50
    for _de, en in PAGES.values():
        html = html_of(client, en)
        left = [text for text in german if text in html]
        assert not left, f"German on {en}: {left[:3]}"


def test_every_string_of_the_demo_pages_has_its_english(demo):
    """The English text of every segment wagtail-localize extracted is known
    (a string missing from the table would stay German)."""
    from wagtail_localize.models import StringSegment

    texts = demo_content.Texts()
    email = conf.helpdesk_email()
    demo_content.home_body(texts, 1, email)
    demo_content.helpdesk_page(texts, 1, email)
    demo_content.imprint_page(texts, email)
    demo_content.privacy_page(texts, email)
    known = {**HOME_EN, **CONTACT_EN, **PRIVACY_NOTICE_EN, **texts.en}
    extracted = StringSegment.objects.values_list("string__data", flat=True)
    assert set(extracted) - set(known) == set()


def test_the_demo_fills_the_company_details_once(
    demo, django_capture_on_commit_callbacks
):
    details = CompanyDetails.current()
    assert details.name == "VIVA GmbH"
    assert details.address_lines == ["Musterstraße 1", "10115 Berlin"]
    assert details.phone == demo_content.PHONE
    assert "HRB 000000" in details.legal_line
    details.address = "Andere Straße 2\n20095 Hamburg"
    details.save()
    run_demo(django_capture_on_commit_callbacks)
    assert CompanyDetails.current().address.startswith("Andere Straße 2")


# -- pages -----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_home_page_shows_its_sections(client, demo, language):
    html = html_of(client, PAGES["home"][language == "en"])
    for cls in ("hero", "features", "steps"):
        assert f'class="{cls}"' in html
    assert html.count('class="card"') == 4
    assert html.count('class="step"') == 4
    hero = part(html, "section", "hero")
    contact = "/de/kontakt/" if language == "de" else "/en/contact/"
    assert f'href="{contact}"' in hero
    if language == "en":
        assert "What VIVA offers" in html
        assert "Send a request" in hero


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_helpdesk_page_carries_the_guide_in_sections(client, demo, language):
    html = html_of(client, PAGES["helpdesk"][language == "en"])
    assert html.count("<h2>") == 8
    assert html.count('class="button"') == 2
    assert conf.helpdesk_email() in html
    if language == "de":
        assert "Wie bestätige ich mein Konto bzw. melde mich an?" in html
        assert "Sie dürfen aber nicht den Betreff mit der Ticket-ID ändern." in html
    else:
        assert "How do I confirm my account and log in?" in html
        assert "do not change the subject with the ticket ID" in html


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_legal_pages_render(client, demo, language):
    imprint = html_of(client, PAGES["imprint"][language == "en"])
    privacy = html_of(client, PAGES["privacy"][language == "en"])
    assert "HRB 000000" in imprint
    assert "Musterstraße 1" in imprint
    assert "template-imprintpage" in imprint
    assert "template-privacypage" in privacy
    if language == "en":
        for text in ("e-mail address", "attachments", "customer number", "right to"):
            assert text in privacy
    else:
        for text in ("E-Mail-Adresse", "Anhänge", "Kundennummer", "Recht auf"):
            assert text in privacy


# -- header and footer ---------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "imprint", "privacy"),
    [
        ("de", "/de/impressum/", "/de/datenschutz/"),
        ("en", "/en/legal-notice/", "/en/privacy-policy/"),
    ],
)
def test_the_footer_shows_the_company_and_the_legal_links(
    client, demo, settings, language, imprint, privacy
):
    settings.VIVADESK = {**settings.VIVADESK, "HELPDESK_PHONE": "+49 30 1234567"}
    for url in (*PAGES["home"], *PAGES["helpdesk"]):
        if f"/{language}/" not in url:
            continue
        footer = part(html_of(client, url), "footer", "site-footer")
        assert "VIVA GmbH" in footer
        assert "Musterstraße 1<br>10115 Berlin" in footer
        assert '<a href="tel:+49301234567">+49 30 1234567</a>' in footer
        assert f"mailto:{conf.helpdesk_email()}" in footer
        assert "Amtsgericht Berlin-Charlottenburg HRB 000000" in footer
        assert f'href="{imprint}"' in footer
        assert f'href="{privacy}"' in footer


def test_the_footer_follows_the_company_details(client, demo):
    details = CompanyDetails.current()
    details.name = "VIVA Nord GmbH"
    details.address = "Hafenweg 3\n20457 Hamburg"
    details.phone = "040 987 654"
    details.legal_line = "Amtsgericht Hamburg HRB 111111"
    details.save()
    with translation.override("en"):
        footer = part(html_of(client, "/en/"), "footer", "site-footer")
    assert "VIVA Nord GmbH" in footer
    assert "Hafenweg 3<br>20457 Hamburg" in footer
    assert 'href="tel:040987654"' in footer
    assert "Amtsgericht Hamburg HRB 111111" in footer
    assert "Musterstraße" not in footer


def test_the_footer_links_only_live_legal_pages(client, demo):
    ImprintPage.objects.get(locale__language_code="en").unpublish()
    footer = part(html_of(client, "/en/"), "footer", "site-footer")
    assert "/en/legal-notice/" not in footer
    assert 'href="/en/privacy-policy/"' in footer


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_menu_has_home_and_the_helpdesk_page_but_no_legal_pages(
    client, demo, language
):
    nav = part(html_of(client, PAGES["imprint"][language == "en"]), "nav", "site-nav")
    links = re.findall(r'href="([^"]+)"', nav)
    helpdesk = PAGES["helpdesk"][language == "en"]
    contact = "/de/kontakt/" if language == "de" else "/en/contact/"
    assert links == [PAGES["home"][language == "en"], helpdesk, contact]
    assert 'aria-current="page"' not in nav


def test_the_header_has_the_logo_and_the_favicon(client, demo):
    html = html_of(client, "/en/")
    assert re.search(
        r'<a class="site-logo" href="/en/"><img src="[^"]*viva-logo\.svg" alt="VIVA"',
        html,
    )
    assert 'rel="icon" href="/static/img/favicon.svg"' in html
    assert 'rel="icon" href="/static/img/favicon-32.png"' in html


def test_the_footer_costs_two_queries_at_most(demo):
    """Company details and legal pages, each read once per request."""
    template = Template(
        "{% load site_tags wagtailcore_tags %}{% home_url %}"
        "{% company_details as company %}{{ company.name }}"
        "{% legal_pages as legal %}"
        "{% pageurl legal.imprint %}{% pageurl legal.privacy %}"
        "{% company_details as company %}{{ company.name }}{% legal_pages as legal %}"
    )
    request = RequestFactory().get("/en/", HTTP_HOST="localhost")
    site = Site.objects.get(is_default_site=True)
    with translation.override("en"):
        Template("{% load site_tags %}{% home_url %}").render(
            Context({"request": request})
        )
        # warm the process-wide caches (content types, locales, site roots)
        template.render(Context({"request": RequestFactory().get("/en/")}))
        with CaptureQueriesContext(connection) as queries:
            html = template.render(Context({"request": request}))
    assert "/en/legal-notice/" in html and "/en/privacy-policy/" in html
    assert site.hostname  # the default site answered the request
    assert len(queries.captured_queries) <= 2, [q["sql"] for q in queries]


# -- editors -------------------------------------------------------------------


def test_where_editors_may_add_each_page_type(demo):
    home = HomePage.objects.get(locale__language_code="de")
    helpdesk = ContentPage.objects.get(locale__language_code="de")
    root = Page.get_first_root_node()
    assert ContentPage.can_create_at(home)
    assert ContentPage.can_create_at(helpdesk)
    assert HomePage.can_create_at(root)
    assert not HomePage.can_create_at(home)
    for legal in (ImprintPage, PrivacyPage):
        # one per home page: the demo's exists already
        assert not legal.can_create_at(home)
        assert not legal.can_create_at(helpdesk)
        assert legal.subpage_types == []
        assert str(legal.page_description)
        assert legal.max_count_per_parent == 1
    new_home = HomePage(title="Zweite Startseite", slug="zweite")
    root.add_child(instance=new_home)
    assert ImprintPage.can_create_at(new_home)
    assert PrivacyPage.can_create_at(new_home)


def test_the_admin_offers_the_page_types_where_they_are_allowed(admin_client, demo):
    home = HomePage.objects.get(locale__language_code="de")
    helpdesk = ContentPage.objects.get(locale__language_code="de")
    add = "/admin/pages/add/home/{model}/{parent}/"
    refused = (302, 403)  # Wagtail sends a refused editor back to the dashboard
    assert (
        admin_client.get(add.format(model="contentpage", parent=home.pk)).status_code
        == 200
    )
    assert (
        admin_client.get(add.format(model="imprintpage", parent=home.pk)).status_code
        in refused
    )
    assert (
        admin_client.get(
            add.format(model="privacypage", parent=helpdesk.pk)
        ).status_code
        in refused
    )
    ImprintPage.objects.get(locale=home.locale).delete()
    assert (
        admin_client.get(add.format(model="imprintpage", parent=home.pk)).status_code
        == 200
    )
