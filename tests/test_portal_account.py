"""The account page, the "Requests" menu and the portal links in mails."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.portal_support import alice, url
from vivadesk_wagtail.models import OutboundEmail
from vivadesk_wagtail.portal import links


@pytest.mark.django_db
def test_account_saves_name_and_language(client):
    user = alice()
    client.force_login(user)
    page = client.get(url("account"))
    assert page.context["account_form"].initial["full_name"] == "Alice Alpha"
    response = client.post(
        url("account"), {"full_name": "  Alice   B. Alpha ", "language": "en"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("account", lang="en")
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Alice", "B. Alpha")
    assert user.helpdesk_profile.language == "en"


@pytest.mark.django_db
def test_account_refuses_unknown_language(client):
    user = alice()
    client.force_login(user)
    response = client.post(url("account"), {"full_name": "A", "language": "xx"})
    assert response.status_code == 200
    assert "language" in response.context["account_form"].errors
    user.helpdesk_profile.refresh_from_db()
    assert user.helpdesk_profile.language == "de"


@pytest.mark.django_db
def test_password_change_keeps_the_session(client):
    user = alice()
    client.force_login(user)
    response = client.post(
        url("change_password"),
        {
            "old_password": "kunden-pass-123",
            "new_password1": "ein-neues-Passwort-42",
            "new_password2": "ein-neues-Passwort-42",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("ein-neues-Passwort-42")
    assert client.get(url("my_requests")).status_code == 200


@pytest.mark.django_db
def test_password_change_with_wrong_old_password(client):
    user = alice()
    client.force_login(user)
    response = client.post(
        url("change_password"),
        {
            "old_password": "falsch",
            "new_password1": "ein-neues-Passwort-42",
            "new_password2": "ein-neues-Passwort-42",
        },
    )
    assert response.status_code == 200
    assert "old_password" in response.context["password_form"].errors
    user.refresh_from_db()
    assert user.check_password("kunden-pass-123")


@pytest.mark.django_db
def test_requests_menu_for_customers_and_visitors(client):
    anonymous = client.get(url("login")).content.decode()
    assert 'class="vivadesk-requests-menu"' in anonymous
    assert url("login") in anonymous
    assert url("my_requests") not in anonymous
    client.force_login(alice())
    html = client.get(url("my_requests", lang="en")).content.decode()
    menu = html[html.index('class="vivadesk-requests-menu"') :]
    menu = menu[: menu.index("</nav>")]
    assert "<details" in menu and "<summary>Requests</summary>" in menu
    for name in ("my_requests", "new_request", "account", "logout"):
        assert url(name, lang="en") in menu
    assert 'method="post"' in menu and "csrfmiddlewaretoken" in menu


@pytest.mark.django_db
def test_login_lands_on_my_requests(client):
    alice()
    response = client.post(
        url("login", lang="en"),
        {"username": "alice@example.com", "password": "kunden-pass-123"},
    )
    assert response.status_code == 302
    assert response["Location"] == url("my_requests", lang="en")


@pytest.mark.django_db
def test_mail_links_point_into_the_portal_in_the_rows_language(settings):
    settings.VIVADESK = {**settings.VIVADESK, "BASE_URL": "https://www.viva.de"}
    ticket = factories.ticket(alice(), language="en")
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_created")
    found = links.for_mail(row)
    assert (
        found["ticket"]
        == f"https://www.viva.de/en/helpdesk/requests/{ticket.reference}/"
    )
    assert found["my_requests"] == "https://www.viva.de/en/helpdesk/requests/"
    assert "admin_ticket" not in found
    staff = OutboundEmail.objects.get(ticket=ticket, event="staff_new_ticket")
    staff_links = links.for_mail(staff)
    assert "ticket" not in staff_links and "my_requests" not in staff_links
    assert staff_links["admin_ticket"].startswith("https://www.viva.de/admin/")
    assert reverse("vivadesk_wagtail:ticket", args=[ticket.reference])
