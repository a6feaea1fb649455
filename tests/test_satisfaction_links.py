"""Customer satisfaction, the links: tampered, expired, other-purpose and
other-ticket tokens, a link replayed after anonymisation, other customers
and agents signed in; the "Done" mail's two links in text and HTML, built
when it is sent; the rating on the ticket screen; the settings' checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.checks import run_checks
from django.utils import timezone

from tests import factories
from tests.portal_support import alice, bob, url
from tests.satisfaction_support import (
    LINK,
    checked,
    done_ticket,
    rate_path,
    rating_logs,
    ratings,
)
from tests.staff_support import screen_url
from vivadesk_wagtail import conf
from vivadesk_wagtail.accounts import erasure_tokens
from vivadesk_wagtail.models import (
    OutboundEmail,
    Rating,
    SatisfactionRating,
    Ticket,
    TicketStatus,
)
from vivadesk_wagtail.portal import satisfaction_tokens
from vivadesk_wagtail.services import erasure, satisfaction, tickets

pytestmark = pytest.mark.django_db


# -- tokens -----------------------------------------------------------------------


def assert_refused(response, status: int, ticket) -> None:
    html = response.content.decode()
    assert response.status_code == status
    assert ticket.reference not in html and ticket.subject not in html
    assert "<form" not in html.split("<main", 1)[1]


def test_a_tampered_token_is_refused(client):
    ticket = done_ticket()
    token = satisfaction_tokens.make(ticket)
    payload, _, signature = token.rpartition(":")
    for bad in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token[:5] + token[6:],
        "",
        "x",
        payload + ":" + signature.upper(),
    ):
        if not bad:
            continue
        response = client.get(rate_path(ticket, "good", token=bad))
        assert_refused(response, 400, ticket)
        assert client.post(rate_path(ticket, token=bad), {"rating": "good"})
    assert ratings() == 0


def test_an_expired_link_is_refused(client, monkeypatch):
    ticket = done_ticket()
    token = satisfaction_tokens.make(ticket)
    later = timezone.now() + conf.get("RATING_LINK_MAX_AGE") + timedelta(minutes=1)
    monkeypatch.setattr(signing.time, "time", lambda: later.timestamp())
    assert_refused(client.get(rate_path(ticket, "good", token=token)), 410, ticket)
    client.post(rate_path(ticket, token=token), {"rating": "good"})
    assert ratings() == 0


def test_a_link_within_its_lifetime_works(client, monkeypatch):
    ticket = done_ticket()
    token = satisfaction_tokens.make(ticket)
    later = timezone.now() + conf.get("RATING_LINK_MAX_AGE") - timedelta(minutes=1)
    monkeypatch.setattr(signing.time, "time", lambda: later.timestamp())
    assert client.get(rate_path(ticket, "good", token=token)).status_code == 200


def test_tokens_of_other_purposes_are_refused(client, agent):
    ticket = done_ticket()
    payload = {"t": ticket.pk, "b": satisfaction_tokens._binding(ticket)}
    other_salt = signing.dumps(payload, salt=erasure_tokens.SALT)
    default_salt = signing.dumps(payload)
    for token in (other_salt, default_salt):
        assert_refused(client.get(rate_path(ticket, "good", token=token)), 400, ticket)
    assert satisfaction_tokens.read(other_salt).problem == satisfaction_tokens.INVALID


def test_a_token_names_only_its_own_ticket(client):
    mine = done_ticket()
    other = done_ticket(bob(), subject="Bobs Anfrage")
    # A payload naming another ticket with this ticket's binding is refused
    # even when signed correctly (a key leak would not reach other tickets).
    forged = signing.dumps(
        {"t": other.pk, "b": satisfaction_tokens._binding(mine)},
        salt=satisfaction_tokens.SALT,
    )
    assert_refused(client.get(rate_path(other, "good", token=forged)), 400, other)
    client.post(rate_path(mine), {"rating": "bad"})
    assert list(SatisfactionRating.objects.values_list("ticket_id", flat=True)) == [
        mine.pk
    ]


def test_an_anonymised_tickets_old_link_is_dead(client):
    ticket = done_ticket()
    token = satisfaction_tokens.make(ticket)
    assert client.get(rate_path(ticket, "good", token=token)).status_code == 200
    erasure.dispose_tickets(Ticket.objects.filter(pk=ticket.pk), erasure.ANONYMISE)
    assert_refused(client.get(rate_path(ticket, "good", token=token)), 400, ticket)
    client.post(rate_path(ticket, token=token), {"rating": "good"})
    assert ratings() == 0


def test_a_deleted_tickets_link_is_dead(client):
    ticket = done_ticket()
    token = satisfaction_tokens.make(ticket)
    erasure.dispose_tickets(Ticket.objects.filter(pk=ticket.pk), erasure.DELETE)
    assert client.get(rate_path(ticket, "good", token=token)).status_code == 400


# -- who is signed in does not matter -----------------------------------------------


def test_another_customer_signed_in_sees_and_changes_only_the_links_ticket(client):
    ticket = done_ticket(body="ALICE-TEXT")
    bobs = done_ticket(bob(), subject="BOBS-BETREFF")
    client.force_login(bobs.customer)
    page = client.get(rate_path(ticket, "good"))
    html = page.content.decode()
    assert page.status_code == 200
    assert ticket.reference in html and "ALICE-TEXT" not in html
    assert "BOBS-BETREFF" not in html and "alice@example.com" not in html
    client.post(rate_path(ticket), {"rating": "bad"})
    assert SatisfactionRating.objects.get().ticket_id == ticket.pk
    # The link logs nobody in and out: Bob is still Bob.
    assert client.session["_auth_user_id"] == str(bobs.customer.pk)


def test_an_agent_signed_in_gains_nothing(agent_client):
    ticket = done_ticket(body="ALICE-TEXT")
    page = agent_client.get(rate_path(ticket, "good"))
    assert "ALICE-TEXT" not in page.content.decode()
    agent_client.post(rate_path(ticket), {"rating": "good"})
    assert list(rating_logs(ticket).values_list("user_id", flat=True)) == [None]


def test_the_token_opens_no_portal_page(client):
    ticket = done_ticket()
    token = satisfaction_tokens.make(ticket)
    client.get(rate_path(ticket, "good", token=token))
    response = client.get(url("ticket", ticket.reference))
    assert response.status_code == 302  # to the login page
    response = client.get(url("ticket", ticket.reference) + f"?token={token}")
    assert response.status_code == 302


# -- the "Done" mail ----------------------------------------------------------------


def done_mail(django_capture_on_commit_callbacks, language="de"):
    ticket = factories.ticket(alice(), language=language)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        tickets.change_status(ticket, TicketStatus.DONE)
    (message,) = [m for m in mail.outbox if "alice@example.com" in m.to]
    return ticket, message


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_done_mail_carries_both_links_in_text_and_html(
    client, django_capture_on_commit_callbacks, language
):
    ticket, message = done_mail(django_capture_on_commit_callbacks, language)
    html = message.alternatives[0][0]
    text_links = {m.group(1): m.group(0) for m in LINK.finditer(message.body)}
    html_links = {m.group(1): m.group(0) for m in LINK.finditer(html)}
    assert set(text_links) == set(html_links) == {"good", "bad"}
    for choice, link in text_links.items():
        assert link.startswith(conf.base_url() + f"/{language}/helpdesk/rating/")
        assert f'href="{html_links[choice]}"' in html
        response = client.get(link.removeprefix(conf.base_url()))
        assert response.status_code == 200
        assert checked(response) == [choice]
    assert ratings() == 0
    # The tokens are made when the mail is sent, never stored with it.
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_done")
    token = text_links["good"].split("/rating/")[1].split("/")[0]
    assert token not in str(row.context)


def test_the_links_use_the_base_url_not_the_host(
    settings, django_capture_on_commit_callbacks
):
    settings.VIVADESK = {**settings.VIVADESK, "BASE_URL": "https://hilfe.viva.de"}
    _ticket, message = done_mail(django_capture_on_commit_callbacks)
    links = LINK.findall(message.body)
    assert len(links) == 2
    assert message.body.count("https://hilfe.viva.de/de/helpdesk/rating/") == 2


def test_a_posted_link_from_the_mail_stores_the_rating(
    client, django_capture_on_commit_callbacks
):
    ticket, message = done_mail(django_capture_on_commit_callbacks)
    link = next(m.group(0) for m in LINK.finditer(message.body) if m.group(1) == "bad")
    client.post(
        link.removeprefix(conf.base_url()), {"rating": "bad", "comment": "zu spät"}
    )
    stored = SatisfactionRating.objects.get(ticket=ticket)
    assert (stored.rating, stored.comment) == ("bad", "zu spät")


def test_other_mails_carry_no_rating_links(django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.ticket(alice())
        tickets.change_status(ticket, TicketStatus.WAITING)
    assert mail.outbox
    for message in mail.outbox:
        assert "/rating/" not in message.body
        assert "/rating/" not in message.alternatives[0][0]


def test_a_done_mail_sent_after_a_reopen_has_no_links(
    django_capture_on_commit_callbacks, monkeypatch
):
    """The links are decided when the mail is rendered: a ticket open again
    by then gets none."""
    from vivadesk_wagtail import queueing

    ticket = factories.ticket(alice())
    queued = []
    monkeypatch.setattr(queueing, "enqueue", lambda *args: queued.append(args))
    mail.outbox.clear()
    tickets.change_status(ticket, TicketStatus.DONE)
    tickets.change_status(ticket, TicketStatus.OPEN)
    monkeypatch.undo()
    from vivadesk_wagtail.mail import outbound

    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_done")
    rendered = outbound.render(row)
    assert "/rating/" not in rendered.text and "/rating/" not in rendered.html


# -- staff -------------------------------------------------------------------------


def test_the_ticket_screen_shows_the_rating_and_escapes_the_comment(agent_client):
    ticket = done_ticket()
    assert (
        "Customer rating" not in agent_client.get(screen_url(ticket)).content.decode()
    )
    satisfaction.rate(ticket, "bad", "<script>alert(1)</script> zu langsam")
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert "Customer rating" in html
    assert "vd-rating--bad" in html and ">Bad<" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; zu langsam" in html
    assert "<script>alert(1)</script>" not in html


def test_the_ticket_screen_is_for_agents_only(client, editor):
    ticket = done_ticket()
    satisfaction.rate(ticket, "bad", "VERTRAULICH")
    client.force_login(editor)
    response = client.get(screen_url(ticket))
    assert "VERTRAULICH" not in response.content.decode()
    assert response.status_code in (302, 403)


# -- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "check_id"),
    [
        ("RATING_LINK_MAX_AGE", "vivadesk.E072"),
        ("RATING_CHANGE_PERIOD", "vivadesk.E073"),
    ],
)
@pytest.mark.parametrize("value", [7, timedelta(0), "7 days", None])
def test_bad_rating_settings_are_errors(settings, key, check_id, value):
    settings.VIVADESK = {**settings.VIVADESK, key: value}
    errors = [e for e in run_checks() if e.id == check_id]
    assert len(errors) == 1 and key in errors[0].msg


def test_the_rating_choices_are_good_and_bad():
    assert set(Rating.values) == {"good", "bad"}
