"""The thank-you page says what really happened (issue 16, item 2): the real
Ticket ID always, and whether a confirmation mail went — now, for an earlier
post of this browser, or not (caps, an address whose mail bounces: call us)
— without telling anybody but the address's own customer whether the
address had an account (DESIGN.md; the reasoning is in ``pages/views.py``).
The decisions come from ``intake.receive`` (an ``Outcome``), not from the
view."""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests import factories
from tests.pages_support import form_data, normalised, post
from vivadesk_wagtail.models import CompanyDetails, OutboundEmail, Ticket
from vivadesk_wagtail.pages import recent
from vivadesk_wagtail.services import deliverability, intake

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/en/contact/"
PHONE = "+49 30 1234567"
SENDING = "We are sending you an e-mail about it to <strong>{}</strong>."
NOT_NOW = "We are not sending an e-mail about this request to <strong>{}</strong> now."
ACCOUNT = (
    "Your requests are kept in an account for this e-mail address, which is "
    "created with the first request from it. As long as that account is not "
    "confirmed, our e-mail carries a link that confirms it"
)
CALL_US = 'please call us at <a href="tel:+49301234567">+49 30 1234567</a>'


@pytest.fixture(autouse=True)
def _phone(settings):
    settings.VIVADESK = {**settings.VIVADESK, "HELPDESK_PHONE": PHONE}


def text(response) -> str:
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def reference_on(page: str) -> str:
    return re.search(r"Ticket ID <strong>(VIVA-\d+)</strong>", page).group(1)


def customer_mails(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def test_a_new_customer_is_told_the_mail_is_coming_and_what_its_link_does(site):
    page = text(post(Client(), URL, email="neu@example.com"))
    assert reference_on(page) == Ticket.objects.get().reference
    assert SENDING.format("neu@example.com") in page
    assert "check your spam folder" in page
    assert ACCOUNT in page
    assert CALL_US not in page
    assert len(customer_mails("neu@example.com")) == 1


def test_a_second_request_within_the_hour_is_told_no_new_mail_and_when_the_first_went(
    site,
):
    """The issue's case: the per-address cap holds the second confirmation
    back; the page said "we have sent you an e-mail" all the same."""
    client = Client()
    text(post(client, URL, email="twice@example.com"))
    page = text(post(client, URL, email="twice@example.com", subject="Noch was"))
    second = Ticket.objects.get(subject="Noch was")
    assert reference_on(page) == second.reference
    assert "We are sending you an e-mail" not in page
    assert "We sent an e-mail about your earlier request to" in page
    assert "<strong>twice@example.com</strong> on <time datetime=" in page
    assert "we are not sending another one for this request" in page
    assert "check your spam folder" in page
    assert len(customer_mails("twice@example.com")) == 1
    assert not OutboundEmail.objects.filter(ticket=second, event="ticket_created")


def test_another_browser_is_not_told_that_somebody_posted_for_the_address(site):
    text(post(Client(), URL, email="opfer@example.com"))
    page = text(post(Client(), URL, email="opfer@example.com"))
    assert NOT_NOW.format("opfer@example.com") in page
    assert "earlier request" not in page
    assert "none while our mail to it comes back undelivered" in page
    assert CALL_US in page and reference_on(page) in page.split(CALL_US)[1]
    assert ACCOUNT in page


def test_an_undeliverable_address_looks_like_a_capped_one_to_a_stranger(site):
    """ "Undeliverable" exists only for an address with an account: a visitor
    who is not its customer gets the page a cap gives any address."""
    factories.customer("bounce@example.com", confirmed=True)
    deliverability.mark_undeliverable("bounce@example.com", "550 5.1.1 unknown")
    undeliverable = post(Client(), URL, email="bounce@example.com")
    text(post(Client(), URL, email="capped@example.com"))
    capped = post(Client(), URL, email="capped@example.com")
    assert "undelivered, so we have stopped" not in text(undeliverable)
    assert normalised(undeliverable, "bounce@example.com") == normalised(
        capped, "capped@example.com"
    )
    assert customer_mails("bounce@example.com") == []


def test_the_signed_in_customer_is_told_their_mail_bounces(site):
    user = factories.customer("bounce@example.com", confirmed=True)
    deliverability.mark_undeliverable("bounce@example.com", "550 5.1.1 unknown")
    client = Client()
    client.force_login(user)
    page = text(post(client, URL, email="bounce@example.com"))
    reference = reference_on(page)
    assert (
        "our mail to <strong>bounce@example.com</strong> has come back undelivered"
        in page
    )
    assert CALL_US in page and f"give your Ticket ID {reference}" in page
    assert f'<a href="/en/helpdesk/requests/{reference}/">My requests</a>' in page
    assert ACCOUNT not in page
    assert customer_mails("bounce@example.com") == []


def test_the_signed_in_customer_gets_the_link_to_the_request(site):
    user = factories.customer("known@example.com", confirmed=True)
    client = Client()
    client.force_login(user)
    page = text(post(client, URL, email="known@example.com"))
    assert SENDING.format("known@example.com") in page
    assert f'href="/en/helpdesk/requests/{reference_on(page)}/"' in page


def test_without_a_phone_number_the_page_names_the_help_desk_address(site, settings):
    settings.VIVADESK = {**settings.VIVADESK, "HELPDESK_PHONE": None}
    CompanyDetails.objects.update(phone="")
    text(post(Client(), URL, email="opfer@example.com"))
    page = text(post(Client(), URL, email="opfer@example.com"))
    assert (
        'please write to us at <a href="mailto:helpdesk@viva.de">helpdesk@viva.de</a>'
        " from another e-mail address" in page
    )
    assert "tel:" not in page


def test_the_global_cap_is_not_reported_as_sent(site, settings):
    settings.VIVADESK = {**settings.VIVADESK, "RATE_CONFIRMATIONS_GLOBAL": "1/h"}
    text(post(Client(), URL, email="a@example.com"))
    page = text(post(Client(), URL, email="b@example.com"))
    assert NOT_NOW.format("b@example.com") in page
    assert customer_mails("b@example.com") == []


def test_a_forged_or_foreign_record_of_earlier_mail_is_ignored(site):
    client = Client()
    text(post(client, URL, email="opfer@example.com"))
    other = Client()
    other.cookies[recent.COOKIE] = client.cookies[recent.COOKIE].value + "x"
    assert NOT_NOW.format("opfer@example.com") in text(
        post(other, URL, email="opfer@example.com")
    )
    # The genuine cookie of another browser names no address: copied, it
    # would say no more than that browser's own page said.
    assert "opfer" not in client.cookies[recent.COOKIE].value


def test_a_double_submit_shows_what_became_of_the_first_posts_mail(site):
    client = Client()
    data = form_data(client, URL, email="doppelt@example.com")
    first = text(client.post(URL, data))
    second = text(client.post(URL, data))
    assert reference_on(first) == reference_on(second)
    assert SENDING.format("doppelt@example.com") in second
    assert len(customer_mails("doppelt@example.com")) == 1


# -- the service's outcome ------------------------------------------------------


def submission(email: str, **kwargs) -> intake.Submission:
    return intake.Submission(
        name="Erika",
        email=email,
        subject="Drucker",
        message="Druckt nicht.",
        language="de",
        **kwargs,
    )


def test_intake_says_what_became_of_the_confirmation():
    queued = intake.receive(submission("neu@example.com"))
    assert (queued.mail, queued.repeated) == (intake.QUEUED, False)
    withheld = intake.receive(submission("neu@example.com", acknowledge=False))
    assert withheld.mail == intake.WITHHELD
    deliverability.mark_undeliverable("neu@example.com", "550")
    bounced = intake.receive(submission("neu@example.com"))
    assert bounced.mail == intake.UNDELIVERABLE
    events = OutboundEmail.objects.filter(event="ticket_created")
    assert [row.ticket for row in events] == [queued.ticket]


def test_intake_reads_back_the_outcome_of_a_repeated_post():
    first = intake.receive(submission("neu@example.com", idempotency_key="k-1"))
    again = intake.receive(
        submission("neu@example.com", idempotency_key="k-1", acknowledge=False)
    )
    assert again.ticket == first.ticket
    assert (again.mail, again.repeated) == (intake.QUEUED, True)
    held = intake.receive(
        submission("leise@example.com", idempotency_key="k-2", acknowledge=False)
    )
    repeated = intake.receive(submission("leise@example.com", idempotency_key="k-2"))
    assert (held.mail, repeated.mail) == (intake.WITHHELD, intake.WITHHELD)
    assert Ticket.objects.count() == 2
