"""Local development: ``make run``. Everything embedded, nothing to install."""

from urllib.parse import urlsplit

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, VAR_DIR, WAGTAILADMIN_BASE_URL, env

VAR_DIR.mkdir(exist_ok=True)

# `make bench` and `make load` (docs/benchmarks.md).
INSTALLED_APPS = [*INSTALLED_APPS, "vivadesk_bench"]

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me")
# The host of VIVADESK_BASE_URL too (`make run HOST=…` sets it).
_SERVED_HOST = urlsplit(WAGTAILADMIN_BASE_URL).hostname
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", _SERVED_HOST]
)

# One web process with in-memory rate-limit counters (see base.py).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# The "Demo mail" page, /<lang>/demo-mail/ (only with DEBUG): the mail in
# var/sent-mail/ with a reply button that places the customer's reply in the
# demo inbox maildir var/inbox/, polled every minute (see the README).
VIVADESK_DEMO_MAIL = env.bool("VIVADESK_DEMO_MAIL", default=True)
