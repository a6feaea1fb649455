"""Who reaches the help-desk admin, and what the admin never executes."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests import factories
from tests.staff_support import assert_denied, post_action, screen_url, url
from vivadesk_wagtail.models import MessageKind, TicketMessage
from vivadesk_wagtail.services import tickets


def helpdesk_urls(ticket) -> list[str]:
    attachment = _attachment(ticket)
    return [
        url("list"),
        url("list_results"),
        screen_url(ticket),
        url("history", ticket.pk),
        url("history_results", ticket.pk),
        url("usage", ticket.pk),
        url("edit", ticket.pk),
        url("delete", ticket.pk),
        url("add"),
        url("attachment", attachment.pk),
        url("raw_mail", 1),
        reverse("wagtailsnippets_vivadesk_wagtail_outboundemail:list"),
        reverse("wagtailsnippets_vivadesk_wagtail_inboundmail:list"),
        reverse("wagtailsnippets_vivadesk_wagtail_category:list"),
        reverse("wagtailsnippetchoosers_vivadesk_wagtail_ticket:choose"),
        reverse("wagtailsnippetchoosers_vivadesk_wagtail_ticket:choose_results"),
        reverse("wagtail_bulk_action", args=("vivadesk_wagtail", "ticket", "delete"))
        + f"?id={ticket.pk}",
        reverse(
            "wagtail_bulk_action",
            args=("vivadesk_wagtail", "ticket", "vivadesk_status"),
        )
        + f"?id={ticket.pk}",
    ]


def _attachment(ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    message = tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Foto anbei",
            attachments=[SimpleUploadedFile("log.txt", b"error 42\n")],
        ),
    )
    return message.attachments.get()


@pytest.mark.django_db
def test_editor_without_group_is_refused_everywhere(client, editor, ticket):
    urls = helpdesk_urls(ticket)
    client.force_login(editor)
    assert client.get(reverse("wagtailadmin_home")).status_code == 200
    for address in urls:
        response = client.get(address)
        assert_denied(response, address)
        assert ticket.subject.encode() not in response.content, address
    response = post_action(client, ticket, "reply", body="x", idempotency_key="a" * 32)
    assert_denied(response)
    response = post_action(client, ticket, "status", status="done")
    assert_denied(response)
    assert not TicketMessage.objects.filter(kind=MessageKind.STAFF).exists()
    ticket.refresh_from_db()
    assert ticket.status == "new"


@pytest.mark.django_db
def test_editor_sees_no_helpdesk_menu_or_panel(client, editor, agent, ticket):
    client.force_login(editor)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "vivadesk-helpdesk" not in html
    assert url("list") not in html
    client.force_login(agent)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "vivadesk-helpdesk" in html
    assert url("list") in html


@pytest.mark.django_db
def test_customer_never_reaches_the_admin(client, ticket):
    client.force_login(ticket.customer)
    for address in (reverse("wagtailadmin_home"), url("list"), screen_url(ticket)):
        response = client.get(address)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_agent_reaches_every_screen(agent_client, ticket):
    for address in (url("list"), screen_url(ticket), url("history", ticket.pk)):
        assert agent_client.get(address).status_code == 200, address
    edit = agent_client.get(url("edit", ticket.pk))
    assert_denied(edit)  # tickets change only through the screen's actions


PAYLOAD = "<script>alert('x')</script> {{ request.user }} {% now 'Y' %}"


@pytest.mark.django_db
def test_reply_with_markup_is_stored_verbatim_and_shown_escaped(agent_client, ticket):
    response = post_action(
        agent_client, ticket, "reply", body=PAYLOAD, idempotency_key=uuid.uuid4().hex
    )
    assert response.status_code == 302
    message = TicketMessage.objects.get(kind=MessageKind.STAFF)
    assert message.body == PAYLOAD
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    assert "{{ request.user }}" in html  # shown as text, never evaluated


class ActiveContent(HTMLParser):
    """Collects what a browser would execute or load in the admin page."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.js_links: list[str] = []
        self.remote_images: list[str] = []
        self.iframes: list[dict] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_script = tag == "script"
        for name, value in attrs.items():
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name in ("href", "src") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.js_links.append(value)
        if tag == "img" and (attrs.get("src") or "").startswith("http"):
            self.remote_images.append(attrs["src"])
        if tag == "iframe":
            self.iframes.append(attrs)

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


EVIL_HTML = (
    "<p>Hallo</p><script>alert('pwned')</script>"
    '<img src="https://tracker.example/pixel.gif" onerror="alert(1)">'
    '<a href="javascript:alert(2)">klick</a>'
    '<div onmouseover="alert(3)">x</div>'
)


@pytest.mark.django_db
def test_mail_html_is_never_executable_in_the_admin(agent_client, ticket):
    # Stored unsanitised on purpose: the screen must not rely on nh3.
    tickets.add_message(
        ticket,
        tickets.NewMessage(body="Hallo", html=EVIL_HTML, kind=MessageKind.CUSTOMER),
    )
    html = agent_client.get(screen_url(ticket)).content.decode()
    parser = ActiveContent()
    parser.feed(html)
    assert not [s for s in parser.scripts if "pwned" in s]
    assert not [h for h in parser.handlers if h[1] in ("onerror", "onmouseover")]
    assert not parser.js_links
    assert "https://tracker.example/pixel.gif" not in parser.remote_images
    frames = [f for f in parser.iframes if "srcdoc" in f]
    assert len(frames) == 1
    frame = frames[0]
    assert frame["sandbox"] == ""  # no allow-scripts, no allow-same-origin
    # The iframe's own document forbids scripts and remote loads as well.
    assert "default-src 'none'" in frame["srcdoc"]
    assert "alert('pwned')" in frame["srcdoc"]  # only as inert iframe text


@pytest.mark.django_db
def test_foreign_attachment_ids_404_for_agents(agent_client):
    response = agent_client.get(url("attachment", 999999))
    # 404; Django's LocaleMiddleware may first redirect to a /de/ prefix.
    assert response.status_code in (404, 302)
    assert "attachment" not in response.get("Content-Disposition", "")


@pytest.mark.django_db
def test_other_tickets_only_of_this_customer(agent_client, ticket):
    stranger = factories.customer("fremd@example.com", name="Fritz Fremd")
    theirs = factories.ticket(stranger, subject="Fremde Anfrage")
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert screen_url(theirs) not in html


@pytest.mark.django_db
def test_generic_bulk_delete_never_deletes_tickets(agent_client, ticket):
    from vivadesk_wagtail.models import Ticket

    address = reverse(
        "wagtail_bulk_action", args=("vivadesk_wagtail", "ticket", "delete")
    )
    agent_client.post(address + f"?id={ticket.pk}")
    assert Ticket.objects.filter(pk=ticket.pk).exists()
