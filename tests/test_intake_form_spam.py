"""The "Spam" list of the Help desk menu (issue 16, item 1): agents review
what the contact form's traps caught, turn a false positive into a ticket
(its confirmation mail goes out then, not before) or delete it; caught posts
older than ``SPAM_RETENTION`` are purged daily; accept and delete are in the
audit log."""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from tests import factories
from tests.pages_support import post
from tests.staff_support import agents_group, assert_denied
from tests.timing import clock
from vivadesk_wagtail import schedules, tasks
from vivadesk_wagtail.models import (
    CaughtSubmission,
    CustomerProfile,
    MessageKind,
    OutboundEmail,
    Ticket,
)
from vivadesk_wagtail.pages.forms import HONEYPOT
from vivadesk_wagtail.services import spam
from vivadesk_wagtail.storage import private_storage

pytestmark = pytest.mark.django_db(transaction=True)

NS = "wagtailsnippets_vivadesk_wagtail_caughtsubmission"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def agent():
    """An agent (the group as migration 0011 leaves it), admin in English."""
    user = factories.StaffFactory(username="spam-agent")
    agents = agents_group()
    agents.permissions.add(Permission.objects.get(codename="view_caughtsubmission"))
    user.groups.add(agents)
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    return user


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def caught(address="erika@example.com", **overrides) -> CaughtSubmission:
    from django.test import Client

    pdf = SimpleUploadedFile("fehler.pdf", PDF, "application/pdf")
    fields = {HONEYPOT: "https://cheap.example", "attachments": [pdf]}
    post(Client(), "/de/kontakt/", email=address, **{**fields, **overrides})
    return CaughtSubmission.objects.latest("pk")


def screen(row) -> str:
    return reverse(f"{NS}:inspect", args=[row.pk])


def test_spam_is_in_the_help_desk_menu_for_agents_only(site, agent_client, editor):
    listing = reverse(f"{NS}:list")
    assert listing.encode() in agent_client.get("/admin/").content
    row = caught(subject="<b>Angebot</b> für Sie")
    page = agent_client.get(listing)
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;b&gt;Angebot&lt;/b&gt; für Sie" in html
    assert "erika@example.com" in html
    assert "Hidden field filled in" in html
    agent_client.force_login(editor)
    assert listing.encode() not in agent_client.get("/admin/").content
    for address in (listing, screen(row)):
        assert_denied(agent_client.get(address), address)
        assert b"Angebot" not in agent_client.get(address).content
    assert_denied(agent_client.post(screen(row), {"action": "delete"}))
    assert CaughtSubmission.objects.filter(pk=row.pk).exists()


def test_not_even_a_superuser_writes_caught_posts_through_generic_views(site):
    from django.contrib.auth import get_user_model
    from django.test import Client

    row = caught()
    boss = get_user_model().objects.create_superuser("boss", "boss@viva.de", "x")
    client = Client()
    client.force_login(boss)
    for name, args in (("add", []), ("edit", [row.pk]), ("delete", [row.pk])):
        address = reverse(f"{NS}:{name}", args=args)
        assert_denied(client.get(address), address)
        client.post(address, {"subject": "changed"})
    row.refresh_from_db()
    assert row.subject == "Drucker druckt nicht"


def test_the_review_screen_shows_the_post_inert(site, agent_client):
    row = caught(message="<script>alert(1)</script>\nZweite Zeile")
    html = agent_client.get(screen(row)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Zweite Zeile" in html
    assert "<script>alert(1)" not in html
    assert "Kundennummer (falls vorhanden)" in html and "K-42" in html
    assert "fehler.pdf" in html
    assert "https://cheap.example" in html
    assert 'value="accept"' in html and 'value="delete"' in html


def test_accepting_opens_the_ticket_the_form_would_have_and_mails_only_then(
    site, agent_client, agent
):
    row = caught()
    stored = row.files[0]["path"]
    assert mail.outbox == [] and not OutboundEmail.objects.exists()
    assert not CustomerProfile.objects.exists()

    response = agent_client.post(screen(row), {"action": "accept"}, follow=True)
    ticket = Ticket.objects.get()
    assert f"Ticket {ticket.reference} opened" in response.content.decode()
    assert (ticket.subject, ticket.language) == ("Drucker druckt nicht", "de")
    assert ticket.category.name == "Allgemein"
    assert ticket.form_data[0]["value"] == "K-42"
    message = ticket.messages.get(kind=MessageKind.CUSTOMER)
    assert message.body == "Seit gestern druckt der Drucker nicht mehr."
    assert message.sender_verified is False
    (attachment,) = ticket.attachments.all()
    assert attachment.original_name == "fehler.pdf"
    assert attachment.file.read() == PDF
    # The account as the form makes it: new, unconfirmed.
    user = ticket.customer
    assert user.email == "erika@example.com" and not user.is_active
    assert user.helpdesk_profile.confirmed_at is None
    # The confirmation goes out now, with the activation link, quoting nothing.
    (confirmation,) = [m for m in mail.outbox if m.to == ["erika@example.com"]]
    assert confirmation.subject.startswith(f"[{ticket.reference}]")
    assert "/activate/" in confirmation.body
    assert "Seit gestern" not in confirmation.body
    # The caught post and its file are gone; both sides are in the audit log.
    assert not CaughtSubmission.objects.exists()
    assert not private_storage().exists(stored)
    entry = ModelLogEntry.objects.get(action="vivadesk.spam.accept")
    assert (entry.user, entry.object_id) == (agent, str(row.pk))
    assert entry.data == {"reason": "honeypot", "ticket": ticket.reference}
    assert entry.label == f"#{row.pk}" and entry.deleted
    history = ModelLogEntry.objects.get(action="vivadesk.ticket.from_spam")
    assert history.object_id == str(ticket.pk) and history.user == agent


def test_accepting_for_a_confirmed_customer_files_it_in_their_account(
    site, agent_client
):
    known = factories.customer("known@example.com", confirmed=True)
    row = caught("KNOWN@example.com")
    agent_client.post(screen(row), {"action": "accept"})
    ticket = Ticket.objects.get()
    assert ticket.customer == known
    assert CustomerProfile.objects.count() == 1
    (confirmation,) = [m for m in mail.outbox if m.to == ["known@example.com"]]
    assert "/activate/" not in confirmation.body


def test_a_second_accept_finds_the_post_handled(site, agent_client):
    row = caught()
    agent_client.post(screen(row), {"action": "accept"})
    again = agent_client.post(screen(row), {"action": "accept"}, follow=True)
    assert "accepted or deleted already" in again.content.decode()
    assert Ticket.objects.count() == 1
    customer_mails = [m for m in mail.outbox if m.to == ["erika@example.com"]]
    assert len(customer_mails) == 1
    with pytest.raises(spam.SpamError):
        spam.accept(row.pk, by=None)


def test_the_same_form_accepted_after_it_got_through_is_one_ticket(site, agent):
    """The caught post keeps the form's idempotency key."""
    from django.test import Client

    from tests.pages_support import form_data

    client = Client()
    data = form_data(client, "/de/kontakt/")
    client.post("/de/kontakt/", {**data, HONEYPOT: "x"})
    client.post("/de/kontakt/", data)  # sent again, by a person
    spam.accept(CaughtSubmission.objects.get().pk, by=agent)
    assert Ticket.objects.count() == 1


def test_deleting_removes_post_and_files_and_mails_nobody(site, agent_client, agent):
    row = caught()
    stored = row.files[0]["path"]
    response = agent_client.post(screen(row), {"action": "delete"}, follow=True)
    assert "The caught post was deleted." in response.content.decode()
    assert not CaughtSubmission.objects.exists()
    assert not private_storage().exists(stored)
    assert not Ticket.objects.exists() and mail.outbox == []
    entry = ModelLogEntry.objects.get(action="vivadesk.spam.delete")
    assert (entry.user, entry.object_id) == (agent, str(row.pk))
    assert entry.data == {"reason": "honeypot"}
    assert "erika" not in entry.label and "Drucker" not in entry.label
    with translation.override("en"):
        assert entry.message == "Deleted (caught: Hidden field filled in)"


def test_the_daily_purge_removes_caught_posts_older_than_the_retention(site, settings):
    old, recent = caught("alt@example.com"), caught("neu@example.com")
    old_file = old.files[0]["path"]
    CaughtSubmission.objects.filter(pk=old.pk).update(
        created_at=old.created_at - timedelta(days=30, minutes=1)
    )
    assert tasks.purge_caught_submissions() == 1
    assert list(CaughtSubmission.objects.all()) == [recent]
    assert not private_storage().exists(old_file)
    assert private_storage().exists(recent.files[0]["path"])
    settings.VIVADESK = {**settings.VIVADESK, "SPAM_RETENTION": timedelta(days=2)}
    with clock(timedelta(days=2, minutes=1)):
        assert tasks.purge_caught_submissions() == 1
    assert not CaughtSubmission.objects.exists()


def test_the_purge_is_part_of_the_daily_retention(site):
    (periodic,) = [p for p in schedules.SCHEDULES if p.name == "vivadesk: retention"]
    assert periodic.minutes == 1440
    old = caught("alt@example.com")
    CaughtSubmission.objects.filter(pk=old.pk).update(
        created_at=old.created_at - timedelta(days=30, minutes=1)
    )
    report = import_string(periodic.func)()
    assert report["caught_spam"] == {"count": 1, "period": "P30DT00H00M00S"}
    assert not CaughtSubmission.objects.exists()


def test_the_orphan_sweep_leaves_caught_files_alone(site):
    row = caught()
    path = private_storage().path(row.files[0]["path"])
    long_ago = time.time() - 7 * 3600
    os.utime(path, (long_ago, long_ago))
    tasks.purge_orphan_files()
    assert os.path.exists(path)
    row.delete()  # now no row refers to it
    tasks.purge_orphan_files()
    assert not os.path.exists(path)


def test_wagtail_localizes_snippet_api_answers_caught_posts_to_agents_only(
    site, agent_client, editor
):
    caught(subject="Quetzal offer")
    api = "/admin/localize/api/snippets/vivadesk_wagtail/caughtsubmission/"
    response = agent_client.get(api)
    assert response.status_code == 200 and b"Quetzal offer" in response.content
    agent_client.force_login(editor)
    response = agent_client.get(api)
    assert response.status_code == 403
    assert b"Quetzal" not in response.content


@pytest.mark.django_db(transaction=False)
def test_the_migration_lets_the_agents_group_review_spam():
    from django.contrib.auth.models import Group

    from vivadesk_wagtail.permissions import AGENTS_GROUP

    agents = Group.objects.get(name=AGENTS_GROUP)
    granted = agents.permissions.filter(codename__endswith="_caughtsubmission")
    assert list(granted.values_list("codename", flat=True)) == ["view_caughtsubmission"]


def test_the_list_links_each_post_to_its_review_screen(site, agent_client):
    row = caught()
    html = agent_client.get(reverse(f"{NS}:list")).content.decode()
    assert f'href="{screen(row)}"' in html
