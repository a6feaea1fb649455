"""Issue 15, item 3: staff accounts never pass through the customer flow and
an account an admin deactivated stays deactivated (DESIGN.md decision 9).

The reported chain: a customer password reset for a staff address created a
customer profile for the staff user; once an admin deactivated that user, a
mail from the address brought an activation link whose POST set a password
and logged the ex-agent in, with full Help desk access."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests import emails, factories
from vivadesk_wagtail.accounts import links
from vivadesk_wagtail.accounts.tokens import activation_token, uid_for
from vivadesk_wagtail.mail import account_notifications
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import CustomerProfile, OutboundEmail
from vivadesk_wagtail.services import customers

RESET = "/en/helpdesk/password-reset/"
RESET_DONE = "/en/helpdesk/password-reset/sent/"
RESEND = "/en/helpdesk/activate/new-link/"
ADMIN_RESET = "/admin/password_reset/"
ACTIVATION = {
    "full_name": "Ex Agentin",
    "new_password1": "Neues-Passwort-2026",
    "new_password2": "Neues-Passwort-2026",
}


def agent(**kwargs):
    return factories.StaffFactory(username="agentin", email="agentin@viva.de", **kwargs)


def superuser():
    return get_user_model().objects.create_superuser(
        "chefin", "chefin@viva.de", "admin-pass-123"
    )


def deactivate(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


def activation_path(user) -> str:
    return f"/en/helpdesk/activate/{uid_for(user)}/{activation_token.make_token(user)}/"


def reset_path(user) -> str:
    token = default_token_generator.make_token(user)
    return f"/en/helpdesk/password-reset/{uid_for(user)}/{token}/"


def assert_activation_refused(user) -> None:
    """GET and POST of a freshly made activation link change nothing."""
    user.refresh_from_db()
    password = user.password
    path = activation_path(user)
    client = Client()
    assert client.get(path).status_code == 400
    response = client.post(path, ACTIVATION)
    assert response.status_code == 400
    assert "This activation link is not valid" in response.content.decode()
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert not user.is_active
    assert user.password == password


def account_mails(event: str) -> int:
    return OutboundEmail.objects.filter(event=event).count()


@pytest.mark.django_db
@pytest.mark.parametrize("make", [agent, superuser], ids=["staff", "superuser"])
def test_customer_reset_for_a_staff_address_mails_nothing_creates_no_profile(make):
    user = make()
    for address in (user.email, user.email.upper(), f" {user.email} "):
        response = Client().post(RESET, {"email": address})
        assert response.status_code == 302
        assert response["Location"] == RESET_DONE
    assert account_mails("password_reset") == 0
    assert mail.outbox == []
    assert not CustomerProfile.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_a_staff_profile_left_behind_never_brings_a_deactivated_agent_back():
    """A profile as the old code left it (made by the customer reset)."""
    user = agent()
    CustomerProfile.objects.create(user=user, email=user.email)
    deactivate(user)
    response = Client().post(RESEND, {"email": user.email})
    assert response.status_code == 200
    assert account_notifications.queue("activation", user) is None
    assert account_mails("activation") == 0
    row = OutboundEmail(event="activation", context={"user": user.pk}, language="en")
    assert "activation" not in links.for_mail(row)
    assert_activation_refused(user)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_content_types")
def test_the_reported_chain_ends_with_the_agent_still_deactivated():
    user = agent()
    assert Client().post(RESET, {"email": user.email}).status_code == 302
    deactivate(user)
    ingest(emails.build(sender=f"Ex <{user.email}>", subject="Hallo"))
    assert Client().post(RESEND, {"email": user.email}).status_code == 200
    assert account_mails("activation") == 0
    assert not any("activate" in m.body for m in mail.outbox)
    assert_activation_refused(user)


@pytest.mark.django_db
def test_a_customer_deactivated_by_staff_stays_deactivated():
    user = factories.customer("alice@example.com")
    reset_link = reset_path(user)  # mailed while the account was active
    deactivate(user)
    assert Client().post(RESEND, {"email": "alice@example.com"}).status_code == 200
    assert Client().post(RESET, {"email": "alice@example.com"}).status_code == 302
    assert account_mails("activation") == account_mails("password_reset") == 0
    assert_activation_refused(user)

    client = Client()
    response = client.get(reset_link, follow=True)
    assert response.context["validlink"] is False
    response = client.post(
        reset_link.rsplit("/", 2)[0] + "/set-password/",
        {"new_password1": "Neu-2026-xyz!", "new_password2": "Neu-2026-xyz!"},
    )
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.check_password("kunden-pass-123") and not user.is_active


@pytest.mark.django_db
@pytest.mark.parametrize("make", [agent, superuser], ids=["staff", "superuser"])
def test_a_customer_reset_link_does_not_work_for_staff(make):
    user = make()
    password = user.password
    client = Client()
    response = client.get(reset_path(user), follow=True)
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "_auth_user_id" not in client.session
    response = client.post(
        reset_path(user).rsplit("/", 2)[0] + "/set-password/",
        {"new_password1": "Neu-2026-xyz!", "new_password2": "Neu-2026-xyz!"},
    )
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.password == password
    assert not CustomerProfile.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_a_customer_account_on_a_staff_address_gets_nothing_from_the_forms():
    """Accounts of their own that share a staff user's address."""
    agent()
    factories.customer("agentin@viva.de", confirmed=False)
    factories.StaffFactory(username="bernd", email="bernd@viva.de")
    factories.customer("bernd@viva.de")
    assert Client().post(RESEND, {"email": "AGENTIN@viva.de"}).status_code == 200
    assert Client().post(RESET, {"email": "BERND@viva.de"}).status_code == 302
    assert account_mails("activation") == account_mails("password_reset") == 0


@pytest.mark.django_db
def test_a_never_confirmed_customer_still_gets_a_link_and_activates():
    user = factories.customer("neu@example.com", confirmed=False)
    assert Client().post(RESEND, {"email": "NEU@example.com"}).status_code == 200
    assert account_mails("activation") == 1
    client = Client()
    response = client.post(activation_path(user), ACTIVATION)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.helpdesk_profile.confirmed_at is not None


def _never_confirmed():
    return factories.customer("neu@example.com", confirmed=False)


def _deactivated_after_confirming():
    user = factories.customer("alt@example.com")
    deactivate(user)
    return user


def _deactivated_with_a_password_never_confirmed():
    user = _never_confirmed()
    user.set_password("vom-admin-gesetzt")
    user.save()
    return user


def _deactivated_after_a_login():
    user = _never_confirmed()
    user.last_login = timezone.now()
    user.save()
    return user


def _inactive_staff_with_profile_without_password():
    user = agent(is_active=False)
    user.set_unusable_password()
    user.save()
    CustomerProfile.objects.create(user=user, email=user.email)
    return user


def _inactive_without_profile():
    user = get_user_model().objects.create_user("fremd", "fremd@example.com")
    user.is_active = False
    user.save()
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_never_confirmed, True),
        (_deactivated_after_confirming, False),
        (_deactivated_with_a_password_never_confirmed, False),
        (_deactivated_after_a_login, False),
        (_inactive_staff_with_profile_without_password, False),
        (_inactive_without_profile, False),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else str(v),
)
def test_awaiting_confirmation_tells_unconfirmed_from_deactivated(make, expected):
    user = get_user_model().objects.get(pk=make().pk)
    if not expected:
        assert account_notifications.queue("activation", user) is None
        assert_activation_refused(user)
    assert customers.awaiting_confirmation(user) is expected


def _page(response, address: str) -> str:
    html = response.content.decode().replace(address, "X")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.mark.django_db
def test_the_answers_do_not_tell_staff_customers_and_strangers_apart():
    staff = agent()
    factories.customer("kunde@example.com")
    factories.customer("neu@example.com", confirmed=False)
    addresses = [staff.email, "kunde@example.com", "neu@example.com", "x@example.com"]
    locations = {Client().post(RESET, {"email": a})["Location"] for a in addresses}
    assert locations == {RESET_DONE}
    pages = {_page(Client().post(RESEND, {"email": a}), a) for a in addresses}
    assert len(pages) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make", [_never_confirmed, _deactivated_after_confirming], ids=["new", "off"]
)
def test_the_wagtail_admin_reset_cannot_activate_a_customer(make):
    user = make()
    response = Client().post(ADMIN_RESET, {"email": user.email})
    assert response.status_code == 302
    assert mail.outbox == []
    user.refresh_from_db()
    assert not user.is_active
