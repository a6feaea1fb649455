"""Settings of the django-q2 cluster that ``tests/test_faults_pg.py`` starts,
kills and restarts.

Everything that ties the cluster to one run comes from the environment the
test sets (``DATABASE_URL`` is the pytest test database):

=============================== ============================================
``VIVADESK_FAULT_CLUSTER``      cluster name, also its Redis list key
``VIVADESK_FAULT_SECRET_KEY``   signs the task packages (the test signs the
                                scheduler's packages with it too)
``VIVADESK_FAULT_SMTP_PORT``    the SMTP sink on 127.0.0.1
``VIVADESK_FAULT_PRIVATE``      private storage (raw mail, attachments)
=============================== ============================================

The task timeout, leases, stuck ages and retry delays are seconds instead of
minutes, so a run with several crashes drains in well under a minute. The
test imports the figures it checks against (``POLL_LEASE``, ``WORKERS``);
without the variables above the module still imports.
"""

import os
from datetime import timedelta

from vivadesk_site.settings.base import *  # noqa: F403
from vivadesk_site.settings.base import STORAGES, VIVADESK

SECRET_KEY = os.environ.get("VIVADESK_FAULT_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

#: Seconds one task may run before django-q2 kills its worker.
TASK_TIMEOUT = 15
#: Worker processes of the cluster.
WORKERS = 2
#: The mailbox poll lease: longer than a poll may run (the task timeout). A
#: poll killed with its cluster is taken over by the restarted one long
#: before the lease runs out, as the test checks.
POLL_LEASE = timedelta(seconds=45)

Q_CLUSTER = {
    "name": os.environ.get("VIVADESK_FAULT_CLUSTER", "vivadesk-faults"),
    "workers": WORKERS,
    "timeout": TASK_TIMEOUT,
    "retry": TASK_TIMEOUT + 10,
    "max_attempts": 1,
    "catch_up": False,
    # Successes are not written to the database: less load, fewer writes on
    # connections the test terminates. Failures still are.
    "save_limit": -1,
    "redis": {"host": "127.0.0.1", "port": 6379, "db": 0},
}

# Nothing shared through a cache here; the counters of the rate limits stay in
# each process (the system checks of django-ratelimit are silenced for that).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "ratelimit",
    },
}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

STORAGES = {
    **STORAGES,
    "vivadesk_private": {
        **STORAGES["vivadesk_private"],
        "OPTIONS": {
            **STORAGES["vivadesk_private"]["OPTIONS"],
            "location": os.environ.get("VIVADESK_FAULT_PRIVATE", ""),
        },
    },
}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("VIVADESK_FAULT_SMTP_PORT", "25"))
EMAIL_HOST_USER = ""
EMAIL_HOST_PASSWORD = ""
EMAIL_USE_TLS = False
EMAIL_USE_SSL = False
EMAIL_TIMEOUT = 5

VIVADESK = {
    **VIVADESK,
    # Hundreds of mails from a few senders and onto a few tickets.
    "INBOUND_FLOOD_MAX": 100_000,
    "RATE_CONFIRMATIONS_GLOBAL": "1000000/h",
    "OUTBOX_MAX_ATTEMPTS": 100,
    "OUTBOX_RETRY_DELAY": timedelta(seconds=1),
    "OUTBOX_RETRY_MAX_DELAY": timedelta(seconds=3),
    "MAILBOX_POLL_LEASE": POLL_LEASE,
    "INBOUND_STUCK_AFTER": timedelta(seconds=8),
    "INBOUND_RETRY_DELAY": timedelta(seconds=1),
    "INBOUND_RETRY_MAX_DELAY": timedelta(seconds=3),
    "INBOUND_TRANSIENT_ATTEMPTS": 30,
    # Longer than a send may run (the task timeout); the default adds a
    # minute to the timeout, which would make most of the run waiting.
    "OUTBOX_STUCK_AFTER": timedelta(seconds=TASK_TIMEOUT + 5),
}


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "stamped": {
            "format": "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "stamped"}},
    "loggers": {
        "vivadesk_wagtail": {"handlers": ["console"], "level": "INFO"},
        "django-q": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
