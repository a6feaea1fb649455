"""New mail from an account staff deactivated is held with its own reason and
brings no activation link (issue 15, item 3; DESIGN.md decision 9)."""

from __future__ import annotations

import pytest

from tests import emails, factories
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import OutboundEmail, Ticket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


def new_mail(sender: str) -> bytes:
    return emails.build(sender=sender, subject="Neue Frage", body="Hallo\n")


def test_mail_from_a_deactivated_customer_is_held_without_a_link():
    user = factories.customer("ehemals@example.com")
    user.is_active = False
    user.save()
    result = ingest(new_mail("ehemals@example.com"))
    assert (result.outcome, result.reason) == ("held", "deactivated_sender")
    assert not Ticket.objects.exists()
    assert not OutboundEmail.objects.filter(recipient="ehemals@example.com").exists()


def test_mail_from_a_never_confirmed_customer_still_gets_a_link():
    factories.customer("neu@example.com", confirmed=False)
    result = ingest(new_mail("neu@example.com"))
    assert (result.outcome, result.reason) == ("held", "unconfirmed_sender")
    assert OutboundEmail.objects.filter(
        recipient="neu@example.com", event="activation"
    ).exists()
