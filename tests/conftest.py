"""Shared fixtures of the suite."""

import pytest


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
