"""What is kept of a mail: visible text of real client replies (quotes and
signatures cut), charsets, sanitised HTML, attachments (M15, M17, M18)."""

from __future__ import annotations

import pytest

from tests import emails, factories
from vivadesk_wagtail.mail import content, parsing
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import InboundMail, OutboundEmail, Ticket

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_content_types"),
]


def fill(name: str, **values) -> bytes:
    raw = emails.load(name)
    for key, value in values.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", str(value).encode())
    return raw


@pytest.fixture
def ticket(django_capture_on_commit_callbacks):
    """A ticket with its notification sent (replies answer its Message-ID)."""
    with django_capture_on_commit_callbacks(execute=True):
        return factories.ticket()


def reply(name: str, ticket) -> bytes:
    row = OutboundEmail.objects.filter(ticket=ticket).latest("pk")
    return fill(name, IN_REPLY_TO=row.message_id)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        (
            "gmail-reply-en.eml",
            "Hi,\n\nthe printer works again after the update. Thanks!\n\nErika",
        ),
        (
            "outlook-reply-de.eml",
            "Hallo,\n\nvielen Dank – der Drucker läuft wieder. Die Größe der "
            "Ausdrucke stimmt jetzt auch.",
        ),
        (
            "outlook-reply-de-noheader-block.eml",
            "Guten Tag,\n\nanbei die gewünschten Daten.",
        ),
        (
            "apple-mail-reply-de.eml",
            "Hallo zusammen,\n\nleider tritt der Fehler heute wieder auf. "
            "Überall steht „Papierstau“.",
        ),
        (
            "thunderbird-reply-en-attachment.eml",
            "Hello,\n\nhere is the error log you asked for.\n\nErika",
        ),
    ],
)
def test_client_replies_keep_only_the_new_text(name, body, ticket):
    result = ingest(reply(name, ticket))
    assert result.outcome == "reply", result
    assert result.ticket == ticket.reference
    assert result.body == body


def test_refused_attachment_is_dropped_and_the_rest_kept(ticket):
    result = ingest(reply("thunderbird-reply-en-attachment.eml", ticket))
    assert result.attachments == ["error-log.txt"]
    row = InboundMail.objects.get()
    assert "invoice.html" in row.detail


def test_html_only_mail_is_sanitised_and_cid_image_kept():
    factories.customer()
    result = ingest(emails.load("html-only-hostile.eml"))
    assert result.outcome == "new_ticket"
    assert result.body.startswith("Hier der Fehler:")
    message = Ticket.objects.get().messages.get()
    html = message.html
    for bad in ("<script", "onerror", "onload", "javascript:", "<base", "<meta"):
        assert bad not in html
    assert "tracker.example.net" not in html
    assert "evil.example" not in html
    assert 'src="cid:shot1@example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    image = message.attachments.get()
    assert (image.content_id, image.content_type) == ("shot1@example.com", "image/png")


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        (
            "new-iso-8859-1-rfc2047.eml",
            "Größenangabe für Bürostühle",
            "welche Größe haben die Bürostühle?",
        ),
        ("new-windows-1252.eml", "Angebot – Rückfrage", "1.200 € – „inklusive"),
        # An unknown label and undeclared 8-bit text are detected
        # (charset-normalizer), no longer replaced.
        ("unknown-charset.eml", "naïve café Frage", "naïve café"),
        ("undeclared-8bit.eml", "Hallo Jürgen", "Hallo Jürgen, schöne Grüße"),
    ],
)
def test_charsets_decode_or_replace_never_drop(name, subject, text):
    factories.customer()
    result = ingest(emails.load(name))
    assert result.outcome == "new_ticket", result
    assert Ticket.objects.get().subject == subject
    assert text in result.body


def test_broken_base64_keeps_text_and_refuses_the_html_attachment():
    factories.customer()
    result = ingest(emails.load("broken-base64.eml"))
    assert result.outcome == "new_ticket"
    assert result.body.startswith("Hallo, hier der Text mit")
    assert result.attachments == []


def test_no_message_id_and_no_date():
    factories.customer()
    result = ingest(emails.load("no-message-id-no-date.eml"))
    assert result.outcome == "new_ticket"
    assert InboundMail.objects.get().dedupe_key.startswith("raw:")


def test_tnef_dropped_attached_mail_kept():
    factories.customer()
    result = ingest(emails.load("outlook-tnef-winmail.eml"))
    assert result.outcome == "new_ticket"
    assert result.attachments == ["weitergeleitet.eml"]
    assert "winmail.dat" in InboundMail.objects.get().detail


def test_every_fixture_parses_and_runs_through_the_pipeline():
    factories.customer("john.smith@example.cz")
    for path in sorted(emails.HERE.glob("*.eml")):
        raw = path.read_bytes()
        parsed = parsing.parse(raw)
        assert isinstance(parsed.text, str)
        result = ingest(raw, source=path.name)
        assert result.outcome != "error", (path.name, result)


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("AW: WG: Fwd: Rechnung", "Rechnung"),
        ("Re: [VIVA-1000] Drucker", "Drucker"),
        ("RE:Re: aw: Frage", "Frage"),
        ("Antw: Termin", "Termin"),
        ("Rechnung", "Rechnung"),
    ],
)
def test_ticket_title_drops_reply_prefixes(subject, title):
    assert content.ticket_title(subject, ["VIVA-1000"]) == title


def test_visible_text_never_loses_a_bottom_posted_reply():
    text = "> Ihre Frage\n> zweite Zeile\n\nMeine Antwort darunter."
    assert "Meine Antwort darunter." in content.visible_text(text)


def test_cid_images_become_attachment_links():
    factories.customer()
    ingest(emails.load("html-only-hostile.eml"))
    message = Ticket.objects.get().messages.get()
    html = content.link_inline_images(
        message.html + '<img src="cid:missing@x">',
        message.attachments.all(),
        lambda a: f"/admin/attachment/{a.pk}/",
    )
    image = message.attachments.get()
    assert f'src="/admin/attachment/{image.pk}/"' in html
    assert "cid:" not in html
