"""The customer's journey through a real browser (Chromium via Playwright),
real mail servers (aiosmtpd for outgoing mail, Dovecot IMAP for the
customer's reply) and the live server: contact form → confirmation mail →
activation → "My requests" → comment → agent reply in the Wagtail admin →
reply by mail → auto-close → closed in the portal; and a post the spam traps
catch, reviewed and accepted in the admin's "Spam" list. The contact form's
honeypot is neither visible, nor in the accessibility tree, nor reached by
Tab. Each step leaves a screenshot in ``test-artifacts/e2e/`` (the
thank-you pages and the Spam list also at phone width, 390 px); axe-core
checks the customer pages; a Content-Security-Policy violation on any page
fails the test (``new_page`` in conftest.py)."""

from __future__ import annotations

import imaplib
import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_mailbox.models import Mailbox
from playwright.sync_api import expect

from tests import emails
from vivadesk_wagtail import inbound_tasks, tasks
from vivadesk_wagtail.models import CaughtSubmission, Ticket
from vivadesk_wagtail.pages.forms import HONEYPOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PASSWORD = "Sehr-geheim-2026!"
TICKETS = "wagtailsnippets_vivadesk_wagtail_ticket"
ACTIVATION_LINK = re.compile(r"https?://\S+/activate/\S+/\S+/")
SPAM = "wagtailsnippets_vivadesk_wagtail_caughtsubmission"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def site(live_site, smtp_server):
    """The live demo site, its mail caught by the SMTP sink."""
    return live_site


def wait_for_mail(server, address, count, timeout=10.0):
    """The first ``count`` messages to ``address`` (sending is inline on
    commit; allow the SMTP thread a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = server.messages_to(address)
        if len(messages) >= count:
            return messages
        time.sleep(0.1)
    subjects = [m.message["Subject"] for m in server.messages_to(address)]
    raise AssertionError(f"expected {count} mails to {address}, got {subjects}")


def fill_contact_form(page, *, name, email, subject, message, attachment=None):
    page.fill("[name=name]", name)
    page.fill("[name=email]", email)
    page.fill("[name=subject]", subject)
    page.fill("[name=message]", message)
    if attachment:
        page.set_input_files("[name=attachments]", files=[attachment])
    page.locator("form.vivadesk-form button[type=submit]").click()


def assert_honeypot_hidden(page) -> None:
    """The trap: not visible, not in the accessibility tree, not reached by
    Tab (the visible fields are, as a control)."""
    trap = page.locator(f"form.vivadesk-form [name={HONEYPOT}]")
    expect(trap).to_have_count(1)
    assert not trap.is_visible()
    label = page.locator(f"label[for={trap.get_attribute('id')}]")
    assert not label.is_visible()
    label_text = label.text_content().strip()
    tree = page.locator("form.vivadesk-form").aria_snapshot()
    assert label_text and label_text not in tree
    boxes = page.locator("form.vivadesk-form").get_by_role("textbox")
    names = [boxes.nth(n).get_attribute("name") for n in range(boxes.count())]
    assert {"name", "email", "subject", "message"} <= set(names)
    assert HONEYPOT not in names
    assert tree.count("- textbox") == len(names)
    page.locator("[name=name]").focus()
    reached = []
    for _ in range(20):
        reached.append(
            page.evaluate(
                "() => document.activeElement.name || document.activeElement.tagName"
            )
        )
        if reached[-1] == "BUTTON":
            break
        page.keyboard.press("Tab")
    assert reached[-1] == "BUTTON", reached
    assert {"email", "subject", "message", "attachments"} <= set(reached)
    assert HONEYPOT not in reached


def phone_shot(page, shot, step: str) -> None:
    """A screenshot of the page at phone width (390 px)."""
    page.set_viewport_size(PHONE)
    shot(page, step)
    page.set_viewport_size(DESKTOP)


def activation_link(server, address) -> str:
    for captured in wait_for_mail(server, address, 1):
        match = ACTIVATION_LINK.search(captured.text)
        if match:
            return match.group(0)
    raise AssertionError(f"no activation link in the mails to {address}")


def activate(page, link, full_name):
    page.goto(link)
    page.fill("[name=full_name]", full_name)
    page.fill("[name=new_password1]", PASSWORD)
    page.fill("[name=new_password2]", PASSWORD)


def append(server, raw: bytes) -> None:
    imap = imaplib.IMAP4(server.host, server.port)
    imap.login(server.user, server.password)
    imap.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
    imap.logout()


def test_german_journey(
    site,
    smtp_server,
    dovecot,
    new_page,
    shot,
    check_a11y,
):
    customer = "erika@example.com"
    page = new_page("de-DE")

    # 1. The visitor fills the German contact form with an attachment.
    page.goto(f"{site.url}/de/kontakt/")
    check_a11y(page, "Kontaktformular")
    assert_honeypot_hidden(page)
    shot(page, "kontaktformular")
    fill_contact_form(
        page,
        name="Erika Mustermann",
        email=customer,
        subject="Drucker druckt nicht",
        message="Seit gestern druckt der Drucker nicht mehr.",
        attachment={"name": "fehler.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    # A form with files is sent by attachments.js (with upload progress);
    # the thank-you page replaces the form when the server has answered.
    expect(page.locator("body")).to_contain_text("Vielen Dank")
    ticket = Ticket.objects.get()
    expect(page.locator("body")).to_contain_text(ticket.reference)
    expect(page.locator(".vivadesk-mail-state--sent")).to_contain_text(customer)
    check_a11y(page, "Bestätigung")
    shot(page, "bestaetigung")
    phone_shot(page, shot, "bestaetigung-390px")

    # 2. The confirmation mail arrives over SMTP, with the activation link.
    link = activation_link(smtp_server, customer)
    assert link.startswith(site.url)

    # 3. Activation: full name and password.
    activate(page, link, "Erika Mustermann")
    check_a11y(page, "Aktivierung")
    shot(page, "aktivierung")
    page.locator("form.vivadesk-form button[type=submit]").click()

    # 4. "Meine Anfragen" lists the ticket.
    expect(page.locator("h1")).to_contain_text("Meine Anfragen")
    expect(page.locator("main")).to_contain_text(ticket.reference)
    check_a11y(page, "Meine Anfragen")
    shot(page, "meine-anfragen")

    # 5. The customer opens the ticket and comments with an attachment.
    page.locator("main table").get_by_role("link", name=ticket.reference).click()
    expect(page.locator("h1")).to_contain_text(ticket.reference)
    check_a11y(page, "Anfrage")
    page.fill("[name=body]", "Hier noch ein Foto vom Display.")
    page.set_input_files(
        "form.vivadesk-form [name=attachments]",
        files=[{"name": "display.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.locator("form.vivadesk-form button[type=submit]").click()
    thread = page.locator(".vivadesk-thread")
    expect(thread).to_contain_text("Hier noch ein Foto vom Display.")
    expect(thread).to_contain_text("display.pdf")
    shot(page, "kommentar")
    page.locator(".vivadesk-menu summary").click()
    page.get_by_role("button", name="Abmelden").click()
    expect(page.locator(".vivadesk-login-link")).to_be_visible()
    shot(page, "abgemeldet")

    # 6. The agent logs into the Wagtail admin, replies and marks it done.
    agent = new_page("de-DE")
    agent.goto(f"{site.url}/admin/login/")
    agent.fill("[name=username]", "agent")
    agent.fill("[name=password]", "viva-demo-agent")
    agent.locator("form button[type=submit]").click()
    expect(agent).to_have_url(re.compile(r"/admin/$"))
    # On site pages staff get Wagtail's userbar: it works under the site's
    # Content-Security-Policy (its script and styles are files).
    agent.goto(f"{site.url}/de/kontakt/")
    agent.locator("[data-wagtail-userbar-trigger]").click()
    expect(agent.locator("#wagtail-userbar-items")).to_be_visible()
    shot(agent, "userbar")
    agent.goto(f"{site.url}/admin/")
    listing = reverse(f"{TICKETS}:list")
    # Sidebar: HelpDesk › Tickets.
    sidebar = agent.locator("[data-wagtail-sidebar], #wagtail-sidebar").first
    sidebar.get_by_role("button", name="HelpDesk").click()
    agent.locator(f"a[href='{listing}']", has_text="Tickets").first.click()
    expect(agent.locator("main")).to_contain_text(ticket.reference)
    shot(agent, "admin-tickets")
    agent.locator("main").get_by_role("link", name=ticket.reference).first.click()
    screen = reverse(f"{TICKETS}:inspect", args=[ticket.pk])
    expect(agent).to_have_url(re.compile(re.escape(screen) + "$"))
    expect(agent.locator("main")).to_contain_text("Hier noch ein Foto vom Display.")
    smtp_server.clear()
    agent.fill("[name=reply-body]", "Bitte starten Sie den Drucker neu.")
    with agent.expect_navigation():
        agent.locator("button[name=reply-set_status][value=done]").click()
    expect(agent.locator("main")).to_contain_text("Bitte starten Sie den Drucker neu.")
    shot(agent, "admin-antwort-fertig")
    ticket.refresh_from_db()
    assert ticket.status == "done"

    # 7. The customer's mail arrives over SMTP, in German.
    (done_mail,) = wait_for_mail(smtp_server, customer, 1)
    assert ticket.reference in done_mail.message["Subject"]
    assert "Bitte starten Sie den Drucker neu." in done_mail.text
    assert "Status Ihrer Anfrage: Fertig" in done_mail.text

    # 8. The customer answers by mail; the poller fetches it from Dovecot.
    append(
        dovecot,
        emails.build(
            sender=f"Erika Mustermann <{customer}>",
            subject=f"AW: {done_mail.message['Subject']}",
            in_reply_to=done_mail.message["Message-ID"],
            body="Leider druckt er immer noch nicht.\n\n> Bitte starten Sie ...\n",
        ),
    )
    Mailbox.objects.create(name="helpdesk", uri=dovecot.uri())
    # The demo's local maildir is polled too (and is empty).
    assert inbound_tasks.poll_mailboxes()["helpdesk"] == "1 new"
    ticket.refresh_from_db()
    assert ticket.status != "done"  # the customer's reply reopened it

    # 9. The reply appears on the portal ticket page.
    page.goto(f"{site.url}/de/helpdesk/login/")
    page.fill("[name=username]", customer)
    page.fill("[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Meine Anfragen")
    page.goto(f"{site.url}/de/helpdesk/requests/{ticket.reference}/")
    expect(page.locator(".vivadesk-thread")).to_contain_text(
        "Leider druckt er immer noch nicht."
    )
    check_a11y(page, "Anfrage mit Antwort per E-Mail")
    shot(page, "antwort-per-mail")

    # 10. The agent marks it done again; the auto-close schedule, with time
    # moved forward, closes it for good.
    agent.reload()
    status_form = agent.locator("form:has(input[name=action][value=status])")
    status_form.locator("select[name=status-status]").select_option("done")
    with agent.expect_navigation():  # the page showed the reply before, too
        status_form.locator("button[type=submit]").click()
    expect(agent.locator("main")).to_contain_text("Leider druckt er immer noch nicht.")
    ticket.refresh_from_db()
    assert ticket.status == "done"
    Ticket.objects.filter(pk=ticket.pk).update(
        done_at=timezone.now() - timedelta(weeks=5)
    )
    assert tasks.close_done_tickets() == 1

    # 11. The portal shows it closed.
    page.reload()
    expect(page.locator(".vivadesk-facts .vivadesk-status")).to_have_text("Geschlossen")
    expect(page.locator(".vivadesk-callout--closed")).to_be_visible()
    check_a11y(page, "geschlossene Anfrage")
    shot(page, "geschlossen")
    # ... and archives it under the finished requests, not the open ones.
    page.goto(f"{site.url}/de/helpdesk/requests/?state=done")
    row = page.locator("tr.vivadesk-row--finished", has_text=ticket.reference)
    expect(row).to_contain_text("Geschlossen")
    check_a11y(page, "erledigte Anfragen")
    shot(page, "archiv")
    page.goto(f"{site.url}/de/helpdesk/requests/?state=open")
    expect(page.locator("h1")).to_contain_text("Meine Anfragen")
    expect(page.locator("main")).not_to_contain_text(ticket.reference)


def test_english_journey(site, smtp_server, new_page, shot, check_a11y):
    customer = "john@example.com"
    page = new_page("en-GB")

    page.goto(f"{site.url}/en/contact/")
    check_a11y(page, "contact form")
    assert_honeypot_hidden(page)
    shot(page, "contact-form")
    fill_contact_form(
        page,
        name="John Smith",
        email=customer,
        subject="Printer is offline",
        message="Since yesterday the printer shows as offline.",
    )
    ticket = Ticket.objects.get()
    expect(page.locator("body")).to_contain_text(ticket.reference)
    main = page.locator("main")
    expect(main).to_contain_text(f"We are sending you an e-mail about it to {customer}")
    expect(main).to_contain_text("the first request from it")
    check_a11y(page, "thank-you page")
    shot(page, "confirmation")
    phone_shot(page, shot, "confirmation-390px")
    assert ticket.language == "en"

    link = activation_link(smtp_server, customer)
    (confirmation,) = smtp_server.messages_to(customer)
    assert "Thank you for your request" in confirmation.text
    activate(page, link, "John Smith")
    check_a11y(page, "activation")
    shot(page, "activation")
    page.locator("form.vivadesk-form button[type=submit]").click()

    expect(page.locator("h1")).to_contain_text("My requests")
    expect(page.locator("main table")).to_contain_text("Printer is offline")
    check_a11y(page, "My requests")
    shot(page, "my-requests")
    page.locator("main table").get_by_role("link", name=ticket.reference).click()
    expect(page.locator(".vivadesk-thread")).to_contain_text(
        "Since yesterday the printer shows as offline."
    )
    check_a11y(page, "ticket page")
    shot(page, "ticket")


def test_a_caught_post_waits_in_the_spam_list_until_an_agent_accepts_it(
    site,
    smtp_server,
    new_page,
    shot,
    check_a11y,
):
    customer = "falsch-positiv@example.com"
    page = new_page("de-DE")
    page.goto(f"{site.url}/de/kontakt/")
    # What a bot does: it fills the hidden field too.
    page.evaluate(
        "(name) => { document.querySelector(`[name=${name}]`).value = "
        "'https://cheap.example/'; }",
        HONEYPOT,
    )
    fill_contact_form(
        page,
        name="Fritz Falsch",
        email=customer,
        subject="Rechnung doppelt",
        message="Die Rechnung 4711 kam zweimal.",
        attachment={
            "name": "rechnung.pdf",
            "mimeType": "application/pdf",
            "buffer": PDF,
        },
    )
    expect(page.locator("h1")).to_contain_text("Vielen Dank")
    expect(page.locator("main")).not_to_contain_text(re.compile(r"VIVA-\d"))
    check_a11y(page, "abgefangene Anfrage")
    shot(page, "abgefangen")
    phone_shot(page, shot, "abgefangen-390px")
    row = CaughtSubmission.objects.get()
    assert not Ticket.objects.exists()
    assert smtp_server.messages_to(customer) == []

    agent = new_page("de-DE")
    agent.goto(f"{site.url}/admin/login/")
    agent.fill("[name=username]", "agent")
    agent.fill("[name=password]", "viva-demo-agent")
    agent.locator("form button[type=submit]").click()
    expect(agent).to_have_url(re.compile(r"/admin/$"))
    listing = reverse(f"{SPAM}:list")
    sidebar = agent.locator("[data-wagtail-sidebar], #wagtail-sidebar").first
    sidebar.get_by_role("button", name="HelpDesk").click()
    agent.locator(f"a[href='{listing}']").first.click()
    expect(agent.locator("main")).to_contain_text("Rechnung doppelt")
    expect(agent.locator("main")).to_contain_text(customer)
    shot(agent, "admin-spam")
    phone_shot(agent, shot, "admin-spam-390px")
    agent.locator("main").get_by_role("link", name="Rechnung doppelt").click()
    expect(agent).to_have_url(re.compile(reverse(f"{SPAM}:inspect", args=[row.pk])))
    expect(agent.locator("main")).to_contain_text("Die Rechnung 4711 kam zweimal.")
    expect(agent.locator("main")).to_contain_text("rechnung.pdf")
    phone_shot(agent, shot, "admin-spam-pruefen-390px")
    with agent.expect_navigation():
        agent.locator("form:has(input[name=action][value=accept]) button").click()
    ticket = Ticket.objects.get()
    expect(agent.locator("main")).to_contain_text(ticket.reference)
    shot(agent, "admin-spam-angenommen")
    assert not CaughtSubmission.objects.exists()
    assert ticket.attachments.get().original_name == "rechnung.pdf"
    (confirmation,) = wait_for_mail(smtp_server, customer, 1)
    assert ticket.reference in confirmation.message["Subject"]
