"""The two parts of every notification mail: the plain-text part says all the
HTML part says (every sentence, every link), and the HTML part is built the
way Outlook's Word engine, Gmail and Apple Mail all render: tables marked as
layout, inline styles only, pixel units, no flex or grid, no images."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail

from tests import factories
from tests.mail_support import (
    COMPANY,
    EVENTS,
    LONG_SUBJECT,
    company_details,
    every_mail,
    html_of,
    main_link,
    read_html,
    squeeze,
)
from vivadesk_wagtail.mail import account_notifications

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

LANGUAGES = pytest.mark.parametrize("language", ["de", "en"])
#: The header's wordmark stands in for a logo: the only HTML text the plain
#: part has no line for (the sender's name says it there).
WORDMARK = "VIVA HelpDesk"
STAFF_EVENTS = {
    "staff_new_ticket",
    "customer_replied",
    "staff_note",
    "staff_target_warning",
}
PHONE = re.compile(r"\+?\d[\d /()-]{4,}\d")


def text_has_link(text: str, href: str) -> bool:
    """A link of the HTML part is in the text part: a web address in full,
    a ``mailto:`` by its address, a ``tel:`` by its number."""
    if href.startswith("mailto:"):
        return href.removeprefix("mailto:") in text
    if href.startswith("tel:"):
        numbers = {re.sub(r"[^\d+]", "", found) for found in PHONE.findall(text)}
        return href.removeprefix("tel:") in numbers
    return re.search(re.escape(href) + r"(\s|$)", text) is not None


# --- the text part says what the HTML part says --------------------------------


def assert_parts_agree(event: str, message) -> None:
    """Every link and every run of visible text of the HTML part is in the
    text part (white space squeezed)."""
    blocks, hrefs = read_html(html_of(message))
    assert hrefs, event
    for href in hrefs:
        assert text_has_link(message.body, href), (event, href)
    assert blocks[0] == WORDMARK, event
    text = squeeze(message.body)
    missing = [block for block in blocks[1:] if block not in text]
    assert not missing, (event, missing)


@LANGUAGES
def test_the_text_part_says_all_the_html_part_says(settings, language):
    mails = every_mail(language, settings)
    for event, message in mails.items():
        assert_parts_agree(event, message)


@LANGUAGES
@pytest.mark.parametrize("sender", ["unconfirmed", "not signed in"])
def test_every_kind_of_acknowledgement_says_the_same_in_both_parts(
    settings, language, sender
):
    company_details()
    if sender == "unconfirmed":
        customer = factories.customer(
            "neu@example.com", confirmed=False, language=language
        )
    else:
        customer = factories.customer(language=language)
    factories.ticket(
        customer, language=language, subject=LONG_SUBJECT, sender_verified=False
    )
    (ack,) = [m for m in mail.outbox if m.to == [customer.email]]
    assert_parts_agree("ticket_created", ack)
    link = "/helpdesk/activate/" if sender == "unconfirmed" else "/helpdesk/requests/"
    assert link in main_link(html_of(ack))


@LANGUAGES
def test_customer_mails_carry_the_company_signature_in_both_parts(settings, language):
    mails = every_mail(language, settings)
    for event, message in mails.items():
        if event in STAFF_EVENTS:
            continue
        blocks, hrefs = read_html(html_of(message))
        visible = "\n".join(blocks)
        expected = [
            COMPANY["name"],
            *COMPANY["address"].splitlines(),
            COMPANY["phone"],
            "helpdesk@viva.de",
            COMPANY["legal_line"],
        ]
        for part in (visible, message.body):
            positions = [part.index(line) for line in expected]
            assert positions == sorted(positions), event
        assert "tel:+49301234567" in hrefs and "mailto:helpdesk@viva.de" in hrefs


@LANGUAGES
def test_staff_notices_carry_no_company_footer(settings, language):
    mails = every_mail(language, settings)
    for event in STAFF_EVENTS:
        message = mails[event]
        for part in (message.body, html_of(message)):
            assert COMPANY["legal_line"] not in part, event
            assert COMPANY["name"] not in part, event


def test_a_check_of_the_parts_finds_a_sentence_missing_from_the_text():
    html = (
        '<html><head><title>x</title></head><body><div style="display: none">'
        'Preheader</div><p>Hello,</p><p>Visit <a href="https://a.example/x">'
        "us</a></p></body></html>"
    )
    blocks, hrefs = read_html(html)
    assert blocks == ["Hello,", "Visit us"]
    assert hrefs == ["https://a.example/x"]
    assert text_has_link("Visit us: https://a.example/x\n", hrefs[0])
    assert not text_has_link("Visit us: https://a.example/xy\n", hrefs[0])
    assert text_has_link("Phone: +49 30 1234567", "tel:+49301234567")
    assert not text_has_link("Phone: +49 30 123456", "tel:+49301234567")


# --- HTML that survives Outlook, Gmail and Apple Mail ---------------------------


def tables(html: str) -> list[tuple[str, bool]]:
    """Each ``<table>`` start tag (also in Outlook's conditional comments)
    and whether that table holds header cells (a data table)."""
    found = []
    depth_th: list[list] = []
    for tag in re.finditer(r"<(/?)(table|th)\b[^>]*>", html, re.I):
        closing, name = tag.group(1), tag.group(2).lower()
        if name == "table" and not closing:
            depth_th.append([tag.group(0), False])
        elif name == "table" and depth_th:
            start, has_th = depth_th.pop()
            found.append((start, has_th))
        elif name == "th" and not closing and depth_th:
            depth_th[-1][1] = True
    # Outlook's conditional tables open in one comment and close in another.
    found += [(start, has_th) for start, has_th in depth_th]
    return found


@LANGUAGES
def test_html_parts_use_only_what_every_client_renders(settings, language):
    mails = every_mail(language, settings)
    for event, message in mails.items():
        html = html_of(message)
        assert not re.search(r"<style\b", html, re.I), event
        assert not re.search(r"<link\b", html, re.I), event
        assert "@import" not in html and "<img" not in html.lower(), event
        styles = re.findall(r'style="([^"]*)"', html)
        assert styles, event
        for style in styles:
            assert not re.search(r"display\s*:\s*(inline-)?(flex|grid)", style), style
            assert not re.search(r"\d(\.\d+)?\s*(rem|em|vw|vh)\b", style), style
            for size in re.findall(r"font-size\s*:\s*([^;]+)", style):
                assert re.fullmatch(r"\d+px", size.strip()), (event, style)
        for start, is_data in tables(html):
            assert is_data or 'role="presentation"' in start, (event, start)
        for href in read_html(html)[1]:
            assert re.match(r"(https?://|mailto:|tel:)\S+$", href), (event, href)


@LANGUAGES
def test_html_parts_are_a_centred_600_pixel_layout_with_a_preheader(settings, language):
    mails = every_mail(language, settings)
    for event, message in mails.items():
        html = html_of(message)
        assert f'<html lang="{language}" dir="ltr"' in html, event
        assert f'lang="{language}" dir="ltr" style="width: 100%;' in html, event
        assert '<meta name="color-scheme" content="light">' in html, event
        # Outlook: a fixed 600 px table; other clients: fluid up to 600 px
        assert re.search(
            r'<!--\[if mso\]><table role="presentation" width="600" align="center"',
            html,
        ), event
        assert "max-width: 600px" in html, event
        preheader = re.search(
            r'<div style="display: none;[^"]*">(.*?)</div>', html, re.S
        )
        assert preheader and squeeze(htmllib.unescape(preheader.group(1))), event
        assert main_link(html).startswith("http"), event
        assert "font-family: Arial, Helvetica, sans-serif" in html, event


def test_the_layout_check_finds_a_layout_table_without_its_role():
    html = (
        '<!--[if mso]><table role="presentation" width="600"><tr><td><![endif]-->'
        '<table role="presentation"><tr><td><table><tr><td>x</td></tr></table>'
        "<table><tr><th>Name:</th><td>y</td></tr></table></td></tr></table>"
        "<!--[if mso]></td></tr></table><![endif]-->"
    )
    layout = [start for start, is_data in tables(html) if not is_data]
    assert [start for start in layout if "presentation" not in start] == ["<table>"]


# --- what single mails say -------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "english"),
    [
        (3 * 86400, "The link is valid for 3 days."),
        (2 * 3600, "The link is valid for 2 hours."),
        (15 * 60, "The link is valid for 15 minutes."),
    ],
)
def test_password_reset_mail_says_how_long_its_link_works(settings, seconds, english):
    settings.PASSWORD_RESET_TIMEOUT = seconds
    user = factories.customer(language="en")
    account_notifications.queue("password_reset", user, language="en")
    (reset,) = mail.outbox
    assert english in reset.body
    assert english in html_of(reset)
    assert reset.body.index("/password-reset/") < reset.body.index(english)


def test_password_reset_validity_follows_the_settings_default(settings):
    user = factories.customer(language="en")
    account_notifications.queue("password_reset", user, language="en")
    (reset,) = mail.outbox
    days = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT).days
    assert f"The link is valid for {days} days." in reset.body


def test_english_mails_write_ticket_id_capitalised(settings):
    mails = every_mail("en", settings)
    ack = mails["ticket_created"]
    assert "under the Ticket ID VIVA-" in ack.body
    for event, message in mails.items():
        for part in (message.body, html_of(message)):
            assert "ticket id" not in part, event
    assert "please keep the Ticket ID in the subject" in mails["staff_reply"].body


def test_every_event_is_covered():
    templates = Path(__file__).resolve().parents[1] / "templates/vivadesk_wagtail/mail"
    subjects = {
        p.name.removesuffix("_subject.txt") for p in templates.glob("*_subject.txt")
    }
    assert subjects == set(EVENTS)
