"""Helpers shared by the tests of the mails' HTML and text parts: every
notification mail built through the product's own services, and the text a
reader sees in an HTML part."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

from django.conf import settings as django_settings
from django.core import mail
from django.db import transaction
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site
from wagtail.users.models import UserProfile

from tests import factories, staff_support
from vivadesk_wagtail.mail import account_notifications
from vivadesk_wagtail.models import (
    CompanyDetails,
    MessageKind,
    OutboundEmail,
    ServiceTarget,
    Ticket,
    TicketStatus,
)
from vivadesk_wagtail.services import (
    data_requests,
    merge,
    service_targets,
    tickets,
    uploads,
)

#: Every mail event, as its ``<event>_subject.txt`` names it.
EVENTS = (
    "activation",
    "ticket_created",
    "staff_reply",
    "status_changed",
    "ticket_done",
    "ticket_closed",
    "customer_replied",
    "staff_new_ticket",
    "staff_note",
    "password_reset",
    "export_ready",
    "erasure_confirm",
    "erasure_scheduled",
    "erasure_cancelled",
    "ticket_merged",
    "staff_target_warning",
)
#: A subject long enough to wrap on a phone, with German umlauts.
LONG_SUBJECT = (
    "Drucker im Büro „Große Halle“ druckt seit Donnerstag nur noch leere Seiten "
    "aus, obwohl Toner und Papier vollständig nachgefüllt wurden"
)
NAME = "Jürgen Größe-Weiß"
#: The extra answers of the contact form (one left empty: not shown).
ANSWERS = [
    {"name": "customer_number", "label": "Kundennummer", "value": "K-4711"},
    {"name": "device", "label": "Gerät", "value": "  "},
    {
        "name": "room",
        "label": "Raum und Standort des Geräts",
        "value": "Gebäude Süd, 3. OG, Zimmer 3.14 (neben der Küche)",
    },
]
COMPANY = {
    "name": "VIVA Bürotechnik GmbH",
    "address": "Müllerstraße 12\n10115 Berlin\nDeutschland",
    "phone": "+49 30 1234567",
    "legal_line": (
        "Amtsgericht Berlin-Charlottenburg HRB 123456 · Geschäftsführerin: "
        "Dr. Sabine Schäfer · USt-IdNr. DE123456789"
    ),
}
REPLY = (
    "Guten Tag Herr Größe-Weiß,\n\n"
    "bitte schalten Sie den Drucker für zehn Sekunden aus und wieder ein.\n"
    "Danach sollte er wieder drucken. Die Anleitung finden Sie unter "
    "https://www.viva.example/hilfe/drucker/leere-seiten-nach-tonerwechsel\n\n"
    "Viele Grüße\nAnna Agent"
)


def company_details() -> CompanyDetails:
    """The default site's company details, filled in like a real company's."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:  # a transactional test's database is empty
        language = get_supported_content_language_variant(django_settings.LANGUAGE_CODE)
        Locale.objects.get_or_create(language_code=language)
        root = Page.get_first_root_node() or Page.add_root(title="Root")
        site = Site.objects.create(
            hostname="localhost", root_page=root, is_default_site=True
        )
    details = CompanyDetails.for_site(site)
    for field, value in COMPANY.items():
        setattr(details, field, value)
    details.save()
    return details


def _staff(username: str, language: str):
    user = factories.StaffFactory(
        username=username, first_name=username.title(), last_name="Agent"
    )
    user.groups.add(staff_support.agents_group())
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    return user


def every_mail(language: str, settings) -> dict:
    """One mail of every event in ``language`` (to customers and staff), by
    event: a confirmed customer's ticket with a long subject and extra form
    answers taken through its whole life, an activation and a password reset.
    Needs ``django_db(transaction=True)`` (mails go out on commit)."""
    settings.LANGUAGE_CODE = language  # the staff address's language
    settings.VIVADESK = {**settings.VIVADESK, "AUTO_CLOSE_AFTER": timedelta(0)}
    company_details()
    agent, assignee = _staff("anna", language), _staff("bert", language)
    customer = factories.customer(language=language, name=NAME)
    _merge_mail(customer, agent, language)
    first_response_target = ServiceTarget.objects.create(first_response_hours=1)
    ticket = tickets.open_ticket(
        customer=customer,
        subject=LONG_SUBJECT,
        first=tickets.NewMessage(
            body="Seit gestern kommen nur leere Seiten aus dem Drucker.",
            kind=MessageKind.CUSTOMER,
            author=customer,
        ),
        language=language,
        form_data=ANSWERS,
    )
    tickets.assign(ticket, assignee, by=agent)
    service_targets.check_targets(Ticket.objects.get(pk=ticket.pk).next_due)
    first_response_target.delete()
    for body, kind, author, files in (
        ("Kunde ist Stammkunde, bitte bevorzugt.", MessageKind.NOTE, agent, []),
        ("Es geht immer noch nicht.", MessageKind.CUSTOMER, customer, []),
        (REPLY, MessageKind.STAFF, agent, [("Anleitung-Drucker.pdf", b"%PDF-1.4")]),
    ):
        tickets.add_message(
            ticket,
            tickets.NewMessage(
                body=body,
                kind=kind,
                author=author,
                attachments=[uploads.from_bytes(n, d) for n, d in files],
            ),
        )
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    tickets.close_done_tickets()
    account_notifications.queue("password_reset", customer, language=language)
    newcomer = factories.customer(
        "neu@example.com", confirmed=False, name="", language=language
    )
    account_notifications.queue("activation", newcomer, language=language)
    _data_request_mails(language)
    events = dict(OutboundEmail.objects.values_list("message_id", "event"))
    mails = {events[m.extra_headers["Message-ID"]]: m for m in mail.outbox}
    assert set(mails) == set(EVENTS), sorted(mails)
    return mails


def _merge_mail(customer, agent, language: str) -> None:
    """The customer's second request merged into the first (before the
    ticket whose mails the other events take: theirs come later)."""
    first = factories.ticket(customer, subject=LONG_SUBJECT, language=language)
    second = factories.ticket(customer, subject="Toner", language=language)
    merge.merge(second, first, by=agent)


def _data_request_mails(language: str) -> None:
    """The data-protection mails of one customer: an export ready, then an
    erasure asked for, confirmed and cancelled."""
    leaver = factories.customer("weg@example.com", language=language, name=NAME)
    with transaction.atomic():
        export = data_requests.request_export(leaver)
        # ready before its build task runs (which then has nothing to do)
        data_requests.finish_export(export, "vivadesk/exports/x.zip", 48213, {})
    erasure = data_requests.request_erasure(leaver)
    data_requests.confirm_erasure(erasure)
    data_requests.cancel_erasure(erasure)


def html_of(message) -> str:
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return html


def squeeze(text: str) -> str:
    """``text`` with its white space (non-breaking, zero-width) as single
    spaces."""
    text = text.replace("\u200c", " ").replace("\xa0", " ")
    return " ".join(text.split())


#: Elements that end a run of text.
BLOCKS = {
    "address",
    "blockquote",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "table",
    "tr",
    "ul",
}
#: Elements never shown.
UNSEEN = {"head", "script", "style", "title"}
VOID = {"br", "hr", "img", "input", "link", "meta"}
HIDDEN = re.compile(r"display\s*:\s*none", re.I)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.hrefs: list[str] = []
        self._run: list[str] = []
        self._hidden: list[str] = []  # tags of open hidden elements

    def _end_run(self) -> None:
        text = squeeze("".join(self._run))
        if text:
            self.blocks.append(text)
        self._run = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href") is not None:
            self.hrefs.append(attrs["href"])
        if tag in VOID:
            if tag == "br":
                self._run.append(" ")
            return
        if self._hidden or tag in UNSEEN or HIDDEN.search(attrs.get("style") or ""):
            self._hidden.append(tag)
            return
        if tag in BLOCKS:
            self._end_run()
        elif tag in ("td", "th"):
            self._run.append(" ")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self._hidden:
            if self._hidden[-1] == tag:
                self._hidden.pop()
            return
        if tag in BLOCKS:
            self._end_run()
        elif tag in ("td", "th"):
            self._run.append(" ")

    def handle_data(self, data):
        if not self._hidden:
            self._run.append(data)

    def close(self):
        super().close()
        self._end_run()


def read_html(source: str) -> tuple[list[str], list[str]]:
    """The runs of visible text of an HTML mail (each paragraph, list item,
    table row…, white space squeezed) and the ``href`` of every link."""
    reader = _Reader()
    reader.feed(source)
    reader.close()
    return reader.blocks, reader.hrefs


def main_link(source: str) -> str:
    """The ``href`` of the mail's button (the brand-coloured table cell)."""
    found = re.search(
        r'<td[^>]*bgcolor="#0b4f8a"[^>]*><a [^>]*href="([^"]+)"', source, re.S
    )
    assert found, "no button"
    return html.unescape(found.group(1))
