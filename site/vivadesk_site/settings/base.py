"""Settings shared by every environment of the reference VIVA site.

Deployment values come from the environment through django-environ (chosen
because it parses all our URL-style variables — ``DATABASE_URL``,
``REDIS_URL``, ``EMAIL_URL`` — with one well-kept library):

==================== ===================================================
``DATABASE_URL``     default ``sqlite:///<repo>/var/db.sqlite3``
``REDIS_URL``        optional; when set: cache, rate limits, django-q2
``EMAIL_URL``        ``smtp://host:port``, ``smtp+tls://u:p@host:587``,
                     ``consolemail://``; unset: files in ``var/sent-mail``
``SECRET_KEY``       required in production
``ALLOWED_HOSTS``    comma-separated
``VIVADESK_BASE_URL`` public URL used in links inside mails
``DEBUG``            ``true``/``false``
==================== ===================================================
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

SITE_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = SITE_DIR.parent
VAR_DIR = Path(environ.Env().str("VIVADESK_VAR_DIR", default=str(REPO_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "vivadesk_wagtail",
    "home",
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_mailbox",
    "django_ratelimit",
    "django_q",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, keeping the admin's 404 pages (vivadesk_site/middleware.py).
    "vivadesk_site.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "vivadesk_wagtail.middleware.PrivatePagesMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "vivadesk_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Site overrides first, then the app's top-level templates/ folder
        # (in an installed wheel they are found through APP_DIRS instead).
        "DIRS": [SITE_DIR / "templates", REPO_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "vivadesk_site.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the django-q2 worker share the file: WAL lets them
    # read while the other writes, IMMEDIATE transactions and a busy timeout
    # make writers wait for each other instead of failing with "locked". A
    # 32 MiB page cache per connection (SQLite's default is 2 MiB) keeps the
    # tickets' indexes in memory; a large transaction then spills no pages.
    # ``temp_store=MEMORY`` keeps the journal of savepoints (nested
    # ``atomic`` blocks) and temporary sort tables in memory instead of
    # temporary files: in the ingest benchmark an inbound mail's savepoints
    # wrote about a hundred pages to such a file, one system call each.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;"
        ),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
# A new translation starts as a draft (wagtail-localize would copy the source's
# live status and publish it past the workflow; system check vivadesk.E060).
WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE = False
LOCALE_PATHS = [SITE_DIR / "locale", REPO_DIR / "locale"]
# English dates day first with a 24-hour clock (vivadesk_site/formats/en).
FORMAT_MODULE_PATH = ["vivadesk_site.formats"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [SITE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
PRIVATE_ROOT = VAR_DIR / "private"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Attachments and raw mail: outside MEDIA_ROOT, no base URL, owner-only
    # file modes. Served only by the help desk's permission-checked views.
    "vivadesk_private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(PRIVATE_ROOT),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
FILE_UPLOAD_PERMISSIONS = 0o600

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": env.cache_url_config(REDIS_URL)}
else:
    # The embedded default: one machine, the database as a shared cache (its
    # counters are shared by the web server and the worker).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "vivadesk_cache",
        }
    }

# Rate limits need a shared cache with atomic increments: Redis when
# REDIS_URL is set. The embedded default keeps the counters in the memory of
# the one web process (``make run``); dev and test settings silence
# django-ratelimit's check for that, production does not.
RATELIMIT_USE_CACHE = "ratelimit"
CACHES["ratelimit"] = (
    env.cache_url_config(REDIS_URL)
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
)
RATELIMIT_VIEW = "vivadesk_wagtail.accounts.views.rate_limited"

Q_CLUSTER = {
    "name": "vivadesk",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 5,
    "catch_up": False,
    "save_limit": 1000,
    "label": _("Background tasks"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    # The ORM broker with a cheaper enqueue (vivadesk_wagtail.brokers).
    Q_CLUSTER["broker_class"] = "vivadesk_wagtail.brokers.ORMBroker"
    Q_CLUSTER["poll"] = 1

# django-mailbox is only the transport: the help desk fetches and stores
# inbound mail (private storage). Its own processing, should anything call
# it, keeps no original and strips every part instead of writing it to
# MEDIA_ROOT (the system check vivadesk.E110 insists).
DJANGO_MAILBOX_STORE_ORIGINAL_MESSAGE = False
DJANGO_MAILBOX_STRIP_UNALLOWED_MIMETYPES = True
DJANGO_MAILBOX_ALLOWED_MIMETYPES = []

EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "sent-mail"
EMAIL_TIMEOUT = 30

WAGTAIL_SITE_NAME = "VIVA"
# No Gravatar: staff addresses are not sent to a third party, and the admin
# shows Wagtail's default avatar (or the one a user uploads).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# `make run` sets it to the address it serves (HOST, PORT); the default is
# the same host name, so the login cookie is not split between two names.
WAGTAILADMIN_BASE_URL = env.str("VIVADESK_BASE_URL", default="http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# Wagtail's admin password reset with the help desk's rate limits.
WAGTAILADMIN_USER_PASSWORD_RESET_FORM = (
    "vivadesk_wagtail.accounts.forms.AdminPasswordResetForm"
)
WAGTAILDOCS_EXTENSIONS = [
    "csv",
    "docx",
    "key",
    "odt",
    "pdf",
    "pptx",
    "rtf",
    "txt",
    "xlsx",
    "zip",
]

# Content-Security-Policy of the site and portal pages (django-csp; see
# vivadesk_wagtail/middleware.py for why). The pages load script, styles and
# fonts from their own origin only, with no inline code. Wagtail's userbar,
# shown to staff on site pages, loads its files from WAGTAILADMIN_BASE_URL.
# Wagtail's admin (and its previews) is excluded: it needs inline script.
# Attachment downloads and Wagtail documents keep their own stricter policy.
# A site that embeds videos (wagtail.embeds) adds their hosts to frame-src.
_ADMIN_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(WAGTAILADMIN_BASE_URL))
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/django-admin/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, _ADMIN_ORIGIN],
        "style-src": [SELF, _ADMIN_ORIGIN],
        "font-src": [SELF, _ADMIN_ORIGIN],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# A form sent from an expired session asks, in the site's layout and the
# page's language, to load the page again (403).
CSRF_FAILURE_VIEW = "vivadesk_site.errors.csrf_failure"

LOGIN_URL = "vivadesk_wagtail:login"
LOGIN_REDIRECT_URL = "vivadesk_wagtail:my_requests"

VIVADESK = {
    "BASE_URL": WAGTAILADMIN_BASE_URL,
    "HELPDESK_EMAIL": env.str("VIVADESK_HELPDESK_EMAIL", default="helpdesk@viva.de"),
    "MAIL_AUTHSERV_ID": env.str("VIVADESK_MAIL_AUTHSERV_ID", default="") or None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"vivadesk_wagtail": {"handlers": ["console"], "level": "INFO"}},
}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "vivadesk_wagtail.auth.CustomerEmailBackend",
]
LOGOUT_REDIRECT_URL = "/"
