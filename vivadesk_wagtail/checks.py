"""System checks for the ``VIVADESK`` settings and the django-q2 cluster.

A wrong value is reported as a Django system-check error naming the key, so a
misconfigured deployment fails at ``manage.py check`` / start-up with a clear
message instead of a traceback at import or a silent fault at run time.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from . import conf

PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,11}$")


def _error(key: str, message: str, hint: str = "", id_: int = 1) -> Error:
    return Error(
        f"VIVADESK['{key}'] {message}", hint=hint or None, id=f"vivadesk.E{id_:03d}"
    )


def _positive_int(key: str, id_: int) -> list[Error]:
    value = conf.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return [
            _error(key, f"must be a positive whole number, not {value!r}.", id_=id_)
        ]
    return []


def _positive_duration(key: str, id_: int) -> list[Error]:
    value = conf.get(key)
    if not isinstance(value, timedelta) or value <= timedelta(0):
        return [
            _error(
                key,
                f"must be a positive datetime.timedelta, not {value!r}.",
                hint="For example timedelta(weeks=3).",
                id_=id_,
            )
        ]
    return []


def _email(key: str, id_: int, optional: bool = False) -> list[Error]:
    value = conf.get(key)
    if optional and value is None:
        return []
    try:
        validate_email(value)
    except (ValidationError, TypeError):
        return [_error(key, f"must be an e-mail address, not {value!r}.", id_=id_)]
    return []


def check_vivadesk_settings() -> list[Error]:
    errors: list[Error] = []
    raw = getattr(settings, "VIVADESK", {})
    if not isinstance(raw, dict):
        return [Error("VIVADESK must be a dict.", id="vivadesk.E000")]
    for key in raw:
        if key not in conf.DEFAULTS:
            errors.append(_error(key, "is not a known setting.", id_=99))
    prefix = conf.get("TICKET_PREFIX")
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        errors.append(
            _error(
                "TICKET_PREFIX",
                f"must be 2-12 letters or digits starting with a letter, "
                f"not {prefix!r}.",
                id_=1,
            )
        )
    errors += _positive_int("TICKET_FIRST_NUMBER", 2)
    errors += _email("HELPDESK_EMAIL", 3)
    errors += _email("STAFF_NOTIFY_EMAIL", 4, optional=True)
    try:
        URLValidator(schemes=["http", "https"])(conf.get("BASE_URL"))
    except (ValidationError, TypeError):
        errors.append(
            _error("BASE_URL", f"must be an http(s) URL, not {conf.get('BASE_URL')!r}.")
        )
    errors += _positive_duration("AUTO_CLOSE_AFTER", 6)
    errors += _positive_duration("ACTIVATION_MAX_AGE", 7)
    errors += _positive_int("ATTACHMENT_MAX_SIZE", 8)
    errors += _positive_int("ATTACHMENT_MAX_COUNT", 9)
    types = conf.get("ATTACHMENT_ALLOWED_TYPES")
    if not isinstance(types, list | tuple) or not all(
        isinstance(t, str) and "/" in t for t in types
    ):
        errors.append(
            _error(
                "ATTACHMENT_ALLOWED_TYPES",
                "must be a list of content types such as 'application/pdf'.",
                id_=10,
            )
        )
    if conf.get("STORAGE") not in getattr(settings, "STORAGES", {}):
        errors.append(
            _error(
                "STORAGE",
                f"names {conf.get('STORAGE')!r}, which is not in STORAGES.",
                hint="Add a private FileSystemStorage (base_url None) under that "
                "alias; it must not be served under MEDIA_URL.",
                id_=11,
            )
        )
    errors += _positive_duration("RAW_MAIL_RETENTION", 12)
    errors += _positive_int("OUTBOX_MAX_ATTEMPTS", 13)
    errors += _positive_duration("OUTBOX_RETRY_DELAY", 14)
    errors += _positive_duration("OUTBOX_STUCK_AFTER", 15)
    languages = {code for code, _name in settings.LANGUAGES}
    if conf.get("FALLBACK_LANGUAGE") not in languages:
        errors.append(
            _error(
                "FALLBACK_LANGUAGE",
                f"must be one of LANGUAGES ({', '.join(sorted(languages))}).",
                id_=16,
            )
        )
    return errors


def check_q_cluster() -> list[Error]:
    """django-q2 redelivers a task after ``retry`` seconds: ``retry`` must exceed
    ``timeout``, and ``max_attempts`` must be set, or a failing task runs forever."""
    cluster = getattr(settings, "Q_CLUSTER", None)
    if not isinstance(cluster, dict):
        return [
            Error(
                "Q_CLUSTER is not set.",
                hint="The help desk sends mail and polls mailboxes through django-q2.",
                id="vivadesk.E101",
            )
        ]
    errors = []
    timeout, retry = cluster.get("timeout"), cluster.get("retry", 60)
    if not isinstance(timeout, int | float) or timeout <= 0:
        errors.append(
            Error("Q_CLUSTER['timeout'] must be set (seconds).", id="vivadesk.E102")
        )
    elif not isinstance(retry, int | float) or retry <= timeout:
        errors.append(
            Error(
                f"Q_CLUSTER['retry'] ({retry}) must be greater than "
                f"Q_CLUSTER['timeout'] ({timeout}).",
                hint="Otherwise a task still running is handed to a second worker.",
                id="vivadesk.E103",
            )
        )
    attempts = cluster.get("max_attempts", 0)
    if not isinstance(attempts, int) or attempts < 1:
        errors.append(
            Error(
                "Q_CLUSTER['max_attempts'] must be 1 or more.",
                hint="0 means a failing task is retried forever.",
                id="vivadesk.E104",
            )
        )
    return errors


def register_checks() -> None:
    register(Tags.compatibility)(lambda app_configs, **kw: check_vivadesk_settings())
    register(Tags.compatibility)(lambda app_configs, **kw: check_q_cluster())
