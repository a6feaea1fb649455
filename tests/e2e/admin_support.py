"""Helpers of the browser tests in the Wagtail admin: a staff user whose
admin speaks a given language (the admin follows the user's Wagtail
profile), and logging a user in through the admin's login form."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from wagtail.users.models import UserProfile

from tests import factories, staff_support

PASSWORD = "agent-pass-123"  # tests.factories.StaffFactory


def staff(
    username: str,
    language: str,
    *,
    first_name: str = "",
    last_name: str = "",
    groups=None,
    password: str | None = None,
):
    """A staff user (``tests.factories.StaffFactory``) in ``groups`` (the
    help desk's agents unless given) whose admin speaks ``language``; with
    ``password`` instead of the factory's ``PASSWORD`` if given."""
    user = factories.StaffFactory(
        username=username, first_name=first_name, last_name=last_name
    )
    if password is not None:
        user.set_password(password)
        user.save()
    user.groups.add(*([staff_support.agents_group()] if groups is None else groups))
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    return user


def log_in(page, server, user, *, password: str = PASSWORD):
    """``user`` logged in on ``page`` through the admin's login form at
    ``server`` (the live server), waiting for the dashboard; returns
    ``page``."""
    page.goto(f"{server.url}/admin/login/")
    page.fill("[name=username]", user.username)
    page.fill("[name=password]", password)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    return page
