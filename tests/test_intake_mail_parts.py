"""Issue 16, item 6: every inline text and HTML part shows, in order.

``multipart/mixed`` with a text part and an HTML part (an HTML signature
after the text; a gateway's text footer after the HTML) keeps both in the
stored text and in the stored HTML; a ``multipart/alternative`` still gives
one rendering (Apple Mail's HTML split around an inline image is one)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests import emails, factories
from vivadesk_wagtail.mail import parsing
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import Ticket

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_content_types"),
]


def stored(name: str):
    factories.customer()
    result = ingest(emails.load(name))
    assert result.outcome == "new_ticket", result
    return result, Ticket.objects.get().messages.get()


def test_text_then_html_signature_keeps_both():
    result, message = stored("mixed-text-then-html-signature.eml")
    assert result.body == (
        "Hallo,\n\nist der Toner für den Drucker im 2. OG schon bestellt?\n\n\n"
        "Erika Mustermann\nEinkauf | Beispiel GmbH\nTel. +49 30 1234567"
    )
    html = message.html
    question = html.index("ist der Toner für den Drucker im 2. OG schon bestellt?")
    assert question < html.index("<b>Erika Mustermann</b>")
    assert "<meta" not in html and "<html" not in html


def test_html_then_text_footer_keeps_the_message():
    result, message = stored("mixed-html-then-text-footer.eml")
    assert result.body.startswith("Guten Tag,\n\nder Scanner im Lager meldet Fehler")
    assert "Erika Mustermann" in result.body
    html = message.html
    assert html.index("<b>Fehler E-203</b>") < html.index("auf Viren geprüft")


def test_alternative_gives_one_rendering_with_all_its_html_parts():
    result, message = stored("apple-mail-inline-image.eml")
    # The text is the plain alternative, once (not the HTML's text as well).
    assert result.body == (
        "Hallo,\n\nhier das Foto vom Display:\n\n\n"
        "Darunter steht noch „Wartung fällig“.\n\nErika"
    )
    assert result.body.count("Foto vom Display") == 1
    html = message.html
    assert html.index("hier das Foto vom Display:") < html.index("Wartung fällig")
    assert result.attachments == ["display.png"]


def test_alternative_then_html_part_in_mixed():
    mail = EmailMessage()
    mail["From"] = "kunde@example.com"
    mail["Subject"] = "Zwei Teile"
    mail.set_content("Erster Teil.")
    mail.add_alternative("<p>Erster <b>Teil</b>.</p>", subtype="html")
    mail.make_mixed()
    second = EmailMessage()
    second.set_content("<p>Zweiter Teil.</p>", subtype="html")
    mail.attach(second)
    parsed = parsing.parse(mail.as_bytes())
    assert parsed.text == "Erster Teil.\n\nZweiter Teil."
    assert parsed.html.index("<b>Teil</b>") < parsed.html.index("Zweiter Teil.")


def test_text_only_mail_has_no_html():
    parsed = parsing.parse(emails.build(body="Nur Text."))
    assert (parsed.text.strip(), parsed.html) == ("Nur Text.", "")


def test_text_is_escaped_into_the_html():
    raw = emails.load("mixed-text-then-html-signature.eml").replace(
        b"ist der Toner", b"ist <script>alert(1)</script> der Toner"
    )
    parsed = parsing.parse(raw)
    assert "<script" not in parsed.html
    assert "&lt;script&gt;" in parsed.html


def test_titles_of_html_parts_are_no_content():
    mail = EmailMessage()
    mail["From"] = "kunde@example.com"
    mail.set_content(
        "<html><head><title>Outlook</title></head><p>Eins</p></html>", subtype="html"
    )
    mail.make_mixed()
    second = EmailMessage()
    second.set_content(
        "<html><head><title>Footer</title></head>Zwei</html>", subtype="html"
    )
    mail.attach(second)
    parsed = parsing.parse(mail.as_bytes())
    assert parsed.html.split() == ["<p>Eins</p>", "Zwei"]
    assert "Outlook" not in parsed.text and "Footer" not in parsed.text


def test_text_attachment_with_a_raw_8bit_disposition_is_an_attachment():
    raw = (
        "From: kunde@example.com\nTo: helpdesk@viva.de\nSubject: Protokoll\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
        "--B\nContent-Type: text/plain; charset=utf-8\n\nAnbei das Protokoll.\n"
        "--B\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: "
        'attachment; filename="Prüfprotokoll.txt"\n\nZeile 1\n--B--\n'
    ).encode()
    parsed = parsing.parse(raw)
    assert parsed.text.strip() == "Anbei das Protokoll."
    assert [(p.content_type, p.data) for p in parsed.parts] == [
        ("text/plain", b"Zeile 1")
    ]
