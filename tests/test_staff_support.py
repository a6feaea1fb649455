"""Fixtures and helpers shared by the ``test_staff_*`` modules (no tests)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests import factories
from vivadesk_wagtail.permissions import AGENTS_GROUP

NS = "wagtailsnippets_vivadesk_wagtail_ticket"


def url(name: str, *args) -> str:
    return reverse(f"{NS}:{name}", args=args)


def screen_url(ticket) -> str:
    return url("inspect", ticket.pk)


def group(name: str, *permissions: str) -> Group:
    """A group as the migrations create it (a transactional test's flush
    removes migration data, so tests make sure it is there)."""
    found, _created = Group.objects.get_or_create(name=name)
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        found.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return found


def agents_group() -> Group:
    return group(
        AGENTS_GROUP,
        "wagtailadmin.access_admin",
        "vivadesk_wagtail.view_ticket",
        "vivadesk_wagtail.view_outboundemail",
        "vivadesk_wagtail.view_category",
    )


@pytest.fixture
def agent(db):
    """An agent whose admin speaks English (the site default is German)."""
    user = factories.StaffFactory(
        username="agent", first_name="Anna", last_name="Agent"
    )
    user.groups.add(agents_group())
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    return user


@pytest.fixture
def other_agent(db):
    user = factories.StaffFactory(username="bert", first_name="Bert", last_name="B")
    user.groups.add(agents_group())
    return user


@pytest.fixture
def editor(db):
    """Admin access (Wagtail's "Editors" group) but not a help-desk agent."""
    user = factories.StaffFactory(username="editor")
    user.groups.add(group("Editors", "wagtailadmin.access_admin"))
    return user


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def ticket(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return factories.ticket()


def post_action(client, ticket, action: str, **data):
    payload = {"action": action}
    payload.update({f"{action}-{key}": value for key, value in data.items()})
    return client.post(screen_url(ticket), payload)


def assert_denied(response, address="") -> None:
    """Wagtail answers a refused admin URL with 403 or, for a plain browser
    request, a redirect to the dashboard with an error message."""
    if response.status_code == 302:
        assert response["Location"] in (reverse("wagtailadmin_home"), "/admin/")
    else:
        assert response.status_code == 403, (response.status_code, address)
