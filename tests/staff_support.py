"""Helpers shared by the staff-screen tests: admin URLs, groups, actions.

The staff users themselves (``agent``, ``other_agent``, ``editor``,
``agent_client``) and a ``ticket`` are fixtures in ``tests/conftest.py``."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

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
