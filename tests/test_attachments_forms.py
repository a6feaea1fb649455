"""Attachments in the forms and on the ticket page: the file input carries
the limits the server checks with, refused files are named with their type,
and "All attachments" lists each file once with where it came from."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import translation

from tests import factories
from tests.pages_support import form_data
from tests.portal_support import PDF, PNG, alice, upload, url
from vivadesk_wagtail import conf
from vivadesk_wagtail.fields import MultipleFileInput
from vivadesk_wagtail.models import (
    Channel,
    MessageKind,
    TicketAttachment,
    TicketMessage,
)
from vivadesk_wagtail.services import tickets, uploads

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


class FileInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "file":
            self.found.append(attrs)


def file_input(html: str) -> dict:
    parser = FileInputs()
    parser.feed(html)
    assert len(parser.found) == 1, parser.found
    return parser.found[0]


def assert_limits(attrs: dict) -> None:
    assert "data-vd-attachments" in attrs
    assert attrs["data-max-size"] == str(conf.get("ATTACHMENT_MAX_SIZE"))
    assert attrs["data-max-count"] == str(conf.get("ATTACHMENT_MAX_COUNT"))
    allowed = conf.get("ATTACHMENT_ALLOWED_TYPES")
    assert attrs["data-allowed-types"].split() == list(allowed)
    assert set(attrs["data-forbidden-extensions"].split()) == set(
        uploads.FORBIDDEN_EXTENSIONS
    )
    assert "multiple" in attrs


@pytest.fixture
def customer_client():
    user = alice()
    client = Client()
    client.force_login(user)
    return user, client


@pytest.mark.django_db(transaction=True)
def test_file_inputs_carry_the_server_limits(site, settings, customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    pages = ["/en/contact/", url("new_request", lang="en")]
    pages.append(url("ticket", ticket.reference, lang="en"))
    for path in pages:
        assert_limits(file_input(client.get(path).content.decode()))
    # Read when the page is shown, not when the code is loaded.
    settings.VIVADESK = {
        **settings.VIVADESK,
        "ATTACHMENT_MAX_SIZE": 1234,
        "ATTACHMENT_MAX_COUNT": 3,
        "ATTACHMENT_ALLOWED_TYPES": ["application/pdf", "image/png"],
    }
    attrs = file_input(client.get(url("new_request", lang="en")).content.decode())
    assert_limits(attrs)
    assert attrs["data-max-size"] == "1234"
    assert attrs["data-msg-type"] == (
        "The file type of “%(name)s” is not allowed (allowed: PDF, PNG)."
    )
    assert attrs["data-msg-size"] == "“%(name)s” is larger than 1.2\xa0KB."
    assert "At most 3 files" in attrs["data-msg-count"]
    assert "%(name)s" in attrs["data-label-remove"]
    assert attrs["data-label-sending"] == "Sending …"


@pytest.mark.django_db(transaction=True)
def test_the_script_is_a_deferred_file(site, customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    for path in (
        "/en/contact/",
        url("new_request", lang="en"),
        url("ticket", ticket.reference, lang="en"),
    ):
        html = client.get(path).content.decode()
        assert "vivadesk_wagtail/js/attachments.js" in html, path
        assert 'attachments.js" defer></script>' in html, path


def test_refused_type_is_named_and_the_others_must_be_chosen_again(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    before = TicketMessage.objects.count()
    response = client.post(
        url("ticket", ticket.reference, lang="en"),
        {
            "body": "Zwei Dateien",
            "key": "t" * 32,
            "attachments": [upload("bericht.pdf", PDF), upload("setup_tool.exe", EXE)],
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert errors[0].startswith(
        "The file type of “setup_tool.exe” is not allowed (allowed: PDF, PNG, JPG, "
    )
    assert "bericht.pdf" not in errors[0]
    assert errors[-1] == (
        "Nothing was sent yet. Please choose your files again (without the ones "
        "named above) and send the form once more."
    )
    html = response.content.decode()
    assert "“setup_tool.exe”" in html and "choose your files again" in html
    assert TicketMessage.objects.count() == before


@pytest.mark.parametrize(
    ("name", "data"),
    [("video.mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64)],
)
def test_content_of_a_refused_type_is_named_too(customer_client, name, data):
    with translation.override("en"):
        with pytest.raises(Exception) as refused:
            uploads.validate([uploads.from_bytes(name, data)])
    assert "The file type of “video.mp4” is not allowed (allowed: PDF" in str(
        refused.value
    )


@pytest.mark.django_db(transaction=True)
def test_contact_form_names_the_refused_file(site):
    client = Client()
    data = form_data(
        client,
        "/en/contact/",
        attachments=[upload("ok.png", PNG), upload("bild.svg", b"<svg></svg>")],
    )
    response = client.post("/en/contact/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The file type of “bild.svg” is not allowed" in html
    assert "choose your files again" in html
    assert not TicketAttachment.objects.exists()


def _message(ticket, kind, channel, author=None, files=(), body="Text"):
    return tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=body,
            kind=kind,
            channel=channel,
            author=author,
            attachments=uploads.validate(uploads.from_bytes(n, d) for n, d in files),
        ),
    )


def _all_attachments(client, ticket) -> str:
    html = client.get(url("ticket", ticket.reference, lang="en")).content.decode()
    return html[html.index('id="vivadesk-files-heading"') :]


def test_all_attachments_lists_each_file_once_with_its_source(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user, channel=Channel.WEB)
    _message(ticket, MessageKind.CUSTOMER, Channel.WEB, user, [("form.pdf", PDF)])
    _message(ticket, MessageKind.STAFF, Channel.STAFF, None, [("logo.png", PNG)])
    _message(
        ticket,
        MessageKind.CUSTOMER,
        Channel.EMAIL,
        user,
        # The reply mail quotes the logo and the PDF again.
        [("logo.png", PNG), ("form.pdf", PDF), ("neu.txt", b"neu\n")],
    )
    _message(ticket, MessageKind.CUSTOMER, Channel.PORTAL, user, [("p.txt", b"p\n")])
    assert TicketAttachment.objects.count() == 6
    listed = _all_attachments(client, ticket)
    for name in ("form.pdf", "logo.png", "neu.txt", "p.txt"):
        assert listed.count(f">{name}</a>") == 1, name
    assert listed.index("form.pdf") < listed.index("logo.png") < listed.index("neu.txt")
    assert "Your message of " in listed
    assert ", through the contact form" in listed
    assert "Support&#x27;s reply of " in listed or "Support's reply of " in listed
    assert ", by e-mail" in listed
    # Each source links to its message in the thread.
    staff = TicketMessage.objects.get(kind=MessageKind.STAFF)
    assert f'href="#message-{staff.pk}"' in listed
    assert 'href="#latest"' in listed


def test_a_total_limit_set_on_the_widget_reaches_the_browser():
    widget = MultipleFileInput()
    assert "data-max-total" not in widget.render("attachments", None)
    widget.max_total = 5 * 1024 * 1024
    with translation.override("en"):
        attrs = file_input(widget.render("attachments", None))
    assert attrs["data-max-total"] == str(5 * 1024 * 1024)
    assert attrs["data-msg-total"] == (
        "“%(name)s” does not fit into the storage space left for your "
        "attachments (5.0\xa0MB)."
    )
