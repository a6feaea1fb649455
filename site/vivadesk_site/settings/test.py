"""The test suite: SQLite in a temp file by default, PostgreSQL when CI sets
``DATABASE_URL``. Mail goes to Django's in-memory outbox unless a test points
the app at a real SMTP server."""

import tempfile

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, STORAGES

# The benchmarks' tests run their commands.
INSTALLED_APPS = [*INSTALLED_APPS, "vivadesk_bench"]

SECRET_KEY = "test-secret-key-not-for-production"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "ratelimit",
    },
}

_tmp = tempfile.mkdtemp(prefix="vivadesk-test-")
STORAGES = {
    **STORAGES,
    "vivadesk_private": {
        **STORAGES["vivadesk_private"],
        "OPTIONS": {**STORAGES["vivadesk_private"]["OPTIONS"], "location": _tmp},
    },
}
MEDIA_ROOT = f"{_tmp}/media"

# Tasks run inline when their transaction commits (django-q2 reads this once,
# at import, so it is set here rather than per test).
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405

# One web process with in-memory rate-limit counters (see base.py).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# The demo command's maildir inbox stays out of the repository's var/.
VIVADESK_DEMO_INBOX = f"{_tmp}/inbox"
