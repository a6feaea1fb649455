"""Shared fixtures and rules of the suite.

Real services, and what happens when one is missing
---------------------------------------------------
Tests use real servers (PostgreSQL, Redis, Dovecot, an SMTP fixture, Chromium;
see DESIGN.md). When a test needs a service this machine lacks, call::

    from tests.conftest import require_service

    if shutil.which("dovecot") is None:
        require_service("dovecot is not installed (apt-get install dovecot-imapd)")

On a developer laptop this *skips* the test with that reason. Under
``CI=true`` it *fails* it: CI must test everything, and a silently skipped
test is a test that did not run.

As a safety net, under ``CI=true`` every other skip (``pytest.skip``,
``skipif``, ``importorskip``) is turned into a failure as well. A test that
may legitimately be skipped in CI carries ``@pytest.mark.ci_skip_ok`` (use it
sparingly and say why next to it).

Tests marked ``postgres`` need PostgreSQL; on another database they go
through :func:`require_service` (so ``CI=true`` on SQLite fails them). The
SQLite pass of ``.ci/run`` deselects them with ``-m "not postgres"``; its
PostgreSQL pass runs them.

The autouse fixture :func:`_media_and_mail` gives every test its own private
storage folder and Django's in-memory mail outbox, and empties the in-memory
caches (so rate-limit counters do not leak from one test into the next).

Shared fixtures
---------------
Fixtures that several modules use live here or in a helper module that is
registered once in ``pytest_plugins`` (the Dovecot and SMTP servers, the
content-type cache reset), so a test module just names them. Plain helper
functions live in modules without tests (``pages_support.py``,
``portal_support.py``, ``staff_support.py``, ``concurrency.py``). A test
module never imports from another test module (``test_suite_rules.py``).
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.dovecot", "tests.emails", "tests.smtp_server"]

CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def require_service(reason: str) -> None:
    """Skip the calling test because a service is missing; fail it under CI."""
    if CI:
        pytest.fail(f"CI=true, a required service is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def database_vendor() -> str:
    from django.db import connection

    return connection.vendor


def require_postgresql() -> None:
    """For tests of PostgreSQL behaviour (row locks, concurrent writers)."""
    vendor = database_vendor()
    if vendor != "postgresql":
        require_service(
            f"needs PostgreSQL, the test database is {vendor} "
            "(set DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db>)"
        )


def pytest_runtest_setup(item):
    """Tests marked ``postgres`` run only on PostgreSQL (see the docstring)."""
    if item.get_closest_marker("postgres") is None:
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        require_service(
            f"marked postgres, the test database engine is {engine} "
            "(set DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db>)"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if (
        CI
        and report.skipped
        and not hasattr(report, "wasxfail")
        and item.get_closest_marker("ci_skip_ok") is None
    ):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"CI=true: a skipped test fails the run. Skip reason: {reason}"
        )
    return report


@pytest.fixture(autouse=True)
def _media_and_mail(settings, tmp_path):
    """Private storage in a per-test folder; mail into Django's locmem outbox."""
    settings.STORAGES = {
        **settings.STORAGES,
        "vivadesk_private": {
            **settings.STORAGES["vivadesk_private"],
            "OPTIONS": {
                **settings.STORAGES["vivadesk_private"]["OPTIONS"],
                "location": str(tmp_path / "private"),
            },
        },
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _clear_memory_caches()


def _clear_memory_caches() -> None:
    """In-memory caches (rate-limit counters among them) start empty in every
    test; shared caches such as Redis are left alone."""
    from django.conf import settings
    from django.core.cache import caches

    for alias, config in settings.CACHES.items():
        if config.get("BACKEND", "").endswith("locmem.LocMemCache"):
            caches[alias].clear()


@pytest.fixture
def site(settings):
    """The demo site with its contact pages; the form accepts a post at once
    (no minimum fill time)."""
    from django.core.management import call_command

    from vivadesk_wagtail.models import ContactPage

    settings.VIVADESK = {**settings.VIVADESK, "MIN_FILL_SECONDS": 0}
    call_command("vivadesk_demo", stdout=open("/dev/null", "w"))
    return ContactPage.objects.get(slug="kontakt")


@pytest.fixture
def agent(db):
    """An agent whose admin speaks English (the site default is German)."""
    from wagtail.users.models import UserProfile

    from tests import factories, staff_support

    user = factories.StaffFactory(
        username="agent", first_name="Anna", last_name="Agent"
    )
    user.groups.add(staff_support.agents_group())
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    return user


@pytest.fixture
def other_agent(db):
    from tests import factories, staff_support

    user = factories.StaffFactory(username="bert", first_name="Bert", last_name="B")
    user.groups.add(staff_support.agents_group())
    return user


@pytest.fixture
def editor(db):
    """Admin access (Wagtail's "Editors" group) but not a help-desk agent."""
    from tests import factories, staff_support

    user = factories.StaffFactory(username="editor")
    user.groups.add(staff_support.group("Editors", "wagtailadmin.access_admin"))
    return user


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def ticket(db, django_capture_on_commit_callbacks):
    """A ticket with its on-commit work (notifications) done."""
    from tests import factories

    with django_capture_on_commit_callbacks(execute=True):
        return factories.ticket()
