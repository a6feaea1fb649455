"""The dev-only "Demo mail" page and the demo inbox (issue 8): sent mail from
Django's file backend is listed, a reply placed in the demo maildir is read by
the mailbox poller and joins its ticket."""

from __future__ import annotations

import importlib
import io
import re
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.management import call_command
from django.urls import NoReverseMatch, clear_url_caches, include, path, reverse
from django.utils import translation
from django.utils.translation import gettext
from django_mailbox.models import Mailbox

from home.demo_mail import mail as demo_mail
from tests import factories
from vivadesk_site import urls as site_urls
from vivadesk_wagtail.mail import polling
from vivadesk_wagtail.models import InboundMail, MessageKind, OutboundEmail

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

# The site's URLs plus the demo page, as dev.py routes them (the real URL conf
# was imported with the test settings, where DEBUG is off).
urlpatterns = [
    *i18n_patterns(path("demo-mail/", include("home.demo_mail.urls"))),
    *site_urls.urlpatterns,
]


@pytest.fixture
def demo_on(settings, tmp_path):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = True
    settings.VIVADESK_DEMO_MAIL = True
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = str(tmp_path / "sent-mail")
    settings.VIVADESK_DEMO_INBOX = str(tmp_path / "inbox")
    return tmp_path


def inbox_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "inbox" / "new").iterdir())


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def reply_links(html: str) -> list[str]:
    return re.findall(r'href="(/de/demo-mail/reply/[^"]+)"', html)


# -- the demo command ---------------------------------------------------------


@pytest.mark.django_db
def test_demo_command_creates_the_demo_inbox_once(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.VIVADESK_DEMO_INBOX = str(tmp_path / "inbox")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("vivadesk_demo", stdout=out)
    box = Mailbox.objects.get(name=demo_mail.MAILBOX_NAME)
    inbox = (tmp_path / "inbox").resolve()
    assert box.uri == f"maildir://{inbox}"
    assert box.type == "maildir" and box.location == str(inbox)
    assert box.active
    assert Mailbox.active_mailboxes.filter(pk=box.pk).exists()
    for sub in ("cur", "new", "tmp"):
        assert (inbox / sub).is_dir()
    assert str(inbox) in out.getvalue()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("vivadesk_demo", stdout=io.StringIO())
    assert Mailbox.objects.filter(name=demo_mail.MAILBOX_NAME).count() == 1
    assert Mailbox.objects.get().pk == box.pk


@pytest.mark.django_db
def test_demo_inbox_follows_a_moved_var_dir(settings, tmp_path):
    settings.VIVADESK_DEMO_INBOX = str(tmp_path / "old")
    box = demo_mail.ensure_inbox()
    settings.VIVADESK_DEMO_INBOX = str(tmp_path / "new")
    again = demo_mail.ensure_inbox()
    assert again.pk == box.pk
    assert again.location == str((tmp_path / "new").resolve())


# -- only in development --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("debug", "enabled"), [(False, True), (True, False)])
def test_page_is_404_unless_debug_and_setting(
    client, demo_on, settings, debug, enabled
):
    settings.DEBUG = debug
    settings.VIVADESK_DEMO_MAIL = enabled
    for url in ["/de/demo-mail/", "/de/demo-mail/new/", "/de/demo-mail/placed/"]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        "/de/demo-mail/new/",
        {"sender": "kunde@example.com", "subject": "Hallo", "text": "Hallo"},
    )
    assert response.status_code == 404
    assert not (demo_on / "inbox").exists()


def test_site_urls_route_the_page_only_in_development(settings):
    def routed() -> bool:
        clear_url_caches()
        module = importlib.reload(site_urls)
        try:
            reverse("demo_mail:index", urlconf=module)
        except NoReverseMatch:
            return False
        return True

    try:
        settings.DEBUG, settings.VIVADESK_DEMO_MAIL = True, True
        assert routed()
        settings.DEBUG, settings.VIVADESK_DEMO_MAIL = True, False
        assert not routed()
        settings.DEBUG, settings.VIVADESK_DEMO_MAIL = False, True
        assert not routed()
    finally:
        settings.DEBUG = False
        del settings.VIVADESK_DEMO_MAIL
        importlib.reload(site_urls)
        clear_url_caches()


# -- listing -----------------------------------------------------------------


DASHES = "-" * 79


def test_split_file_keeps_a_dash_line_inside_a_body(tmp_path):
    first = EmailMessage(
        "Eins", f"oben\n{DASHES}\nNote: unten\n", "a@viva.de", ["x@example.com"]
    )
    second = EmailMessage("Zwei", "zwei\n", "a@viva.de", ["y@example.com"])
    get_connection(FILE_BACKEND, file_path=str(tmp_path)).send_messages([first, second])
    (name,) = [p.name for p in tmp_path.iterdir()]
    mails = demo_mail.read_file(tmp_path, name)
    assert [m.subject for m in mails] == ["Eins", "Zwei"]
    assert mails[0].text == f"oben\n{DASHES}\nNote: unten\n"
    assert mails[1].text == "zwei\n"


def test_dates_without_a_zone_are_utc(tmp_path):
    raw = b"Date: Fri, 27 Nov 2026 00:21:29 -0000\nSubject: x\n\nText\n"
    mail = demo_mail.SentMail("f.log", 0, parse(raw))
    assert mail.date == datetime(2026, 11, 27, 0, 21, 29, tzinfo=UTC)
    raw = b"Date: Fri, 27 Nov 2026 01:21:29 +0100\nSubject: x\n\nText\n"
    assert demo_mail.SentMail("f.log", 0, parse(raw)).date == mail.date


@pytest.mark.django_db
def test_listing_parses_a_file_of_the_file_backend(client, demo_on):
    factories.StaffFactory(username="agentx", email="agentx@viva.de")
    customer_mail = EmailMultiAlternatives(
        "Ihre Anfrage <VIVA-1000>",
        "Aktivieren: http://localhost:8000/de/helpdesk/activate/abc/?x=1&y=2\n"
        "<script>alert(1)</script>\n",
        "helpdesk@viva.de",
        ["kunde@example.com"],
        headers={"Reply-To": "helpdesk@viva.de"},
    )
    customer_mail.attach_alternative("<p>html</p>", "text/html")
    staff_mail = EmailMessage(
        "Neue Anfrage VIVA-1000",
        "Bitte ansehen.",
        "helpdesk@viva.de",
        ["agentx@viva.de"],
    )
    # One connection: one file holding both messages and their separators.
    get_connection(file_path=demo_on / "sent-mail").send_messages(
        [customer_mail, staff_mail]
    )
    assert len(list((demo_on / "sent-mail").iterdir())) == 1

    response = client.get("/de/demo-mail/")
    assert response.status_code == 200
    html = response.content.decode()
    # Newest first: the staff notice was written after the customer's mail.
    assert html.index("Neue Anfrage VIVA-1000") < html.index(
        "Ihre Anfrage &lt;VIVA-1000&gt;"
    )
    assert "kunde@example.com" in html and "agentx@viva.de" in html
    assert (
        '<a href="http://localhost:8000/de/helpdesk/activate/abc/?x=1&amp;y=2"' in html
    )
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "html</p>" not in html  # the text part, not the HTML one
    # Only the customer's mail can be answered.
    (link,) = reply_links(html)
    assert link.endswith("/0/")
    assert client.get(link).status_code == 200
    assert client.get(link.replace("/0/", "/1/")).status_code == 404
    assert client.get(link.replace("/0/", "/7/")).status_code == 404
    assert client.get("/de/demo-mail/reply/..%2Fsecret/0/").status_code == 404


# -- replying and writing ----------------------------------------------------------


@pytest.mark.django_db
def test_reply_is_placed_in_the_demo_inbox_as_a_real_reply(client, demo_on):
    original = EmailMessage(
        "[VIVA-1000] Drucker druckt nicht",
        "Wir kümmern uns darum.\n",
        "VIVA HelpDesk <helpdesk@viva.de>",
        ["kunde@example.com"],
        headers={
            "Message-ID": "<ticket-1000.abc@viva.de>",
            "References": "<first@example.com>",
            "Reply-To": "helpdesk@viva.de",
        },
    )
    get_connection(file_path=demo_on / "sent-mail").send_messages([original])
    (link,) = reply_links(client.get("/de/demo-mail/").content.decode())

    response = client.post(
        link,
        {
            "text": "Danke, jetzt geht es wieder.",
            "attachment": SimpleUploadedFile(
                "protokoll.txt", b"Zeile 1\n", content_type="text/plain"
            ),
        },
    )
    assert response.status_code == 302
    done = client.get(response["Location"])
    with translation.override("de"):
        placed_text = gettext(
            "Reply placed in the demo inbox; the poller picks it up within a minute."
        )
    assert placed_text in done.content.decode()
    assert 'href="/de/demo-mail/"' in done.content.decode()

    (placed,) = inbox_files(demo_on)
    reply = parse(placed.read_bytes())
    assert reply["From"] == "kunde@example.com"
    assert reply["To"] == "helpdesk@viva.de"
    assert reply["Subject"] == "Re: [VIVA-1000] Drucker druckt nicht"
    assert reply["In-Reply-To"] == "<ticket-1000.abc@viva.de>"
    assert reply["References"] == "<first@example.com> <ticket-1000.abc@viva.de>"
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>", reply["Message-ID"])
    assert reply["Date"].datetime is not None
    body = reply.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Danke, jetzt geht es wieder.\n")
    assert "> Wir kümmern uns darum." in body
    (attachment,) = reply.iter_attachments()
    assert attachment.get_filename() == "protokoll.txt"
    assert attachment.get_content() == "Zeile 1\n"

    # A second reply is a different mail.
    client.post(link, {"text": "Noch etwas."})
    ids = {parse(p.read_bytes())["Message-ID"] for p in inbox_files(demo_on)}
    assert len(ids) == 2


@pytest.mark.django_db
def test_reply_needs_post_with_csrf(demo_on):
    from django.test import Client

    original = EmailMessage("Hallo", "Text", "helpdesk@viva.de", ["kunde@example.com"])
    get_connection(file_path=demo_on / "sent-mail").send_messages([original])
    client = Client(enforce_csrf_checks=True)
    (link,) = reply_links(client.get("/de/demo-mail/").content.decode())
    assert client.post(link, {"text": "Hallo"}).status_code == 403
    assert not (demo_on / "inbox").exists()


@pytest.mark.django_db
def test_new_mail_is_placed_in_the_demo_inbox(client, demo_on):
    response = client.post(
        "/de/demo-mail/new/",
        {"sender": "kunde@example.com", "subject": "Neue Frage", "text": "Hallo?"},
    )
    assert response.status_code == 302
    (placed,) = inbox_files(demo_on)
    message = parse(placed.read_bytes())
    assert message["From"] == "kunde@example.com"
    assert message["To"] == "helpdesk@viva.de"
    assert message["Subject"] == "Neue Frage"
    assert message["Message-ID"] and message["Date"]
    assert message.get_content() == "Hallo?\n"

    invalid = client.post("/de/demo-mail/new/", {"sender": "kein", "subject": ""})
    assert invalid.status_code == 200
    assert len(inbox_files(demo_on)) == 1


# -- the whole loop ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_content_types")
def test_reply_to_a_real_notification_joins_its_ticket(client, demo_on):
    ticket = factories.ticket()  # sends the confirmation through the file backend
    notification = OutboundEmail.objects.filter(
        ticket=ticket, recipient="kunde@example.com"
    ).latest("pk")
    assert notification.state == "sent"
    box = demo_mail.ensure_inbox()

    html = client.get("/de/demo-mail/").content.decode()
    assert ticket.reference in html
    links = reply_links(html)
    assert len(links) == 1, html  # the staff notice has no reply button
    response = client.post(links[0], {"text": "Danke, das hilft mir sehr."})
    assert response.status_code == 302

    assert polling.poll_mailbox(box) == 1
    assert list((demo_on / "inbox" / "new").iterdir()) == []
    reply = ticket.messages.filter(kind=MessageKind.CUSTOMER, channel="email").get()
    assert reply.body == "Danke, das hilft mir sehr."
    assert polling.poll_mailbox(box) == 0


@pytest.mark.django_db
def test_an_eml_dropped_into_the_demo_inbox_is_polled(settings, tmp_path):
    settings.VIVADESK_DEMO_INBOX = str(tmp_path / "inbox")
    box = demo_mail.ensure_inbox()
    raw = (Path(__file__).parent / "emails" / "gmail-reply-en.eml").read_bytes()
    (tmp_path / "inbox" / "new" / "reply.eml").write_bytes(raw)
    assert polling.poll_mailbox(box) == 1
    assert InboundMail.objects.get().source == f"mailbox:{demo_mail.MAILBOX_NAME}"
    assert list((tmp_path / "inbox" / "new").iterdir()) == []
