"""System checks for the ``VIVADESK`` settings and the django-q2 cluster.

A wrong value is reported as a Django system-check error naming the key, so a
misconfigured deployment fails at ``manage.py check`` / start-up with a clear
message instead of a traceback at import or a silent fault at run time.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from . import adapter, business_hours, conf, mailbox_guard

PREFIX_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{1,11}")
#: django-ratelimit's rate syntax: ``10/h``, ``100/5m``, ``3/d``.
RATE_RE = re.compile(r"[1-9][0-9]*/[0-9]*[smhd]")
HOSTNAME_RE = re.compile(
    r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*"
)


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


def _from_email() -> list[Error]:
    value = conf.get("FROM_EMAIL")
    if value is None:
        return []
    address = ""
    if isinstance(value, str) and "\n" not in value and "\r" not in value:
        address = parseaddr(value)[1]
    try:
        validate_email(address)
    except ValidationError:
        return [
            _error(
                "FROM_EMAIL",
                f"must be None or an address such as "
                f"'VIVA HelpDesk <helpdesk@viva.de>', not {value!r}.",
                id_=17,
            )
        ]
    return []


def _message_id_domain() -> list[Error]:
    value = conf.get("MESSAGE_ID_DOMAIN")
    if value is None or (
        isinstance(value, str) and len(value) <= 253 and HOSTNAME_RE.fullmatch(value)
    ):
        return []
    return [
        _error(
            "MESSAGE_ID_DOMAIN",
            f"must be None or a domain name such as 'viva.de', not {value!r}.",
            id_=18,
        )
    ]


def _storage() -> list[Error]:
    alias = conf.get("STORAGE")
    storages = getattr(settings, "STORAGES", {})
    if not isinstance(alias, str) or alias not in storages:
        return [
            _error(
                "STORAGE",
                f"names {alias!r}, which is not in STORAGES.",
                hint="Add a private FileSystemStorage (base_url None) under that "
                "alias; it must not be served under MEDIA_URL.",
                id_=11,
            )
        ]
    config = storages[alias]
    if config.get("BACKEND") != "django.core.files.storage.FileSystemStorage":
        return []
    location = (config.get("OPTIONS") or {}).get("location") or settings.MEDIA_ROOT
    media_root = settings.MEDIA_ROOT
    if location and media_root:
        location_path = Path(location).resolve()
        media_path = Path(media_root).resolve()
        if location_path == media_path or media_path in location_path.parents:
            return [
                _error(
                    "STORAGE",
                    f"names {alias!r}, whose files lie inside MEDIA_ROOT "
                    f"({media_root}) and could be served publicly.",
                    hint="Give that storage an OPTIONS['location'] outside MEDIA_ROOT.",
                    id_=19,
                )
            ]
    return []


RATE_KEYS = (
    ("RATE_FORM_PER_IP", 20),
    ("RATE_CONFIRMATIONS_PER_ADDRESS", 21),
    ("RATE_CONFIRMATIONS_GLOBAL", 22),
    ("RATE_ACTIVATION_RESEND", 23),
    ("LOGIN_RATE_PER_IP", 31),
    ("LOGIN_RATE_PER_ACCOUNT", 32),
    ("RATE_PASSWORD_RESET_PER_IP", 41),
    ("RATE_PASSWORD_RESET_PER_ADDRESS", 42),
    ("RATE_PORTAL_POSTS_PER_CUSTOMER", 43),
    ("RATE_EXPORTS_PER_CUSTOMER", 60),
    ("RATE_ERASURE_MAILS_PER_CUSTOMER", 61),
)


def _rates() -> list[Error]:
    errors = []
    for key, id_ in RATE_KEYS:
        value = conf.get(key)
        if not isinstance(value, str) or not RATE_RE.fullmatch(value):
            errors.append(
                _error(
                    key,
                    f"must be a rate such as '10/h' or '100/5m', not {value!r}.",
                    hint="A count, a slash, an optional multiplier and one of "
                    "s, m, h, d (django-ratelimit's syntax).",
                    id_=id_,
                )
            )
    return errors


def _privacy() -> list[Error]:
    """The data-protection settings (exports, erasure, retention)."""
    errors = _positive_duration("EXPORT_VALID_FOR", 62)
    errors += _positive_duration("ERASURE_CONFIRM_MAX_AGE", 63)
    errors += _positive_duration("ERASURE_GRACE_PERIOD", 64)
    if conf.get("ERASURE_TICKETS") not in ("anonymise", "delete"):
        errors.append(
            _error(
                "ERASURE_TICKETS",
                f"must be 'anonymise' or 'delete', "
                f"not {conf.get('ERASURE_TICKETS')!r}.",
                id_=65,
            )
        )
    for key, id_ in (("CLOSED_TICKET_RETENTION", 66), ("HELD_MAIL_RETENTION", 67)):
        if conf.get(key) is not None:
            errors += _positive_duration(key, id_)
    return errors


def _attachment_quota() -> list[Error]:
    value = conf.get("ATTACHMENT_QUOTA_PER_CUSTOMER")
    if value is None or (
        isinstance(value, int) and not isinstance(value, bool) and value >= 1
    ):
        return []
    return [
        _error(
            "ATTACHMENT_QUOTA_PER_CUSTOMER",
            f"must be None or a positive number of bytes, not {value!r}.",
            hint="For example 200 * 1024 * 1024 (200 MiB).",
            id_=44,
        )
    ]


def _min_fill_seconds() -> list[Error]:
    value = conf.get("MIN_FILL_SECONDS")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return [
            _error(
                "MIN_FILL_SECONDS",
                f"must be a number of seconds, 0 or more, not {value!r}.",
                id_=24,
            )
        ]
    return []


def _helpdesk_phone() -> list[Error]:
    value = conf.get("HELPDESK_PHONE")
    if value is None or (
        isinstance(value, str) and value.strip() and value.isprintable()
    ):
        return []
    return [
        _error(
            "HELPDESK_PHONE",
            f"must be None or a phone number such as '+49 30 1234567', not {value!r}.",
            id_=51,
        )
    ]


def _spam_files_max_bytes() -> list[Error]:
    value = conf.get("SPAM_FILES_MAX_BYTES")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return []
    return [
        _error(
            "SPAM_FILES_MAX_BYTES",
            f"must be a number of bytes, 0 or more, not {value!r}.",
            hint="For example 200 * 1024 * 1024 (200 MiB); 0 keeps no files.",
            id_=53,
        )
    ]


def _is_ip(value) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return isinstance(value, str)


def _trusted_proxies() -> list[Error]:
    value = conf.get("TRUSTED_PROXIES")
    if isinstance(value, list | tuple | set | frozenset) and all(
        _is_ip(v) for v in value
    ):
        return []
    return [
        _error(
            "TRUSTED_PROXIES",
            f"must be a list of IP addresses such as ['10.0.0.2'], not {value!r}.",
            id_=25,
        )
    ]


def _adapter() -> list[Error]:
    """``ADAPTER`` names an importable subclass of the default adapter."""
    path = conf.get("ADAPTER")
    try:
        found = adapter.adapter_class(path) if isinstance(path, str) else None
    except ImportError:
        found = None
    if isinstance(found, type) and issubclass(found, adapter.DefaultHelpdeskAdapter):
        return []
    return [
        _error(
            "ADAPTER",
            f"must be the dotted path of a subclass of "
            f"vivadesk_wagtail.adapter.DefaultHelpdeskAdapter, not {path!r}.",
            id_=59,
        )
    ]


def _business_week() -> list[Error]:
    """The working week of the service targets: a time zone the system
    knows (E068), working days 0-6 and opening hours ``["HH:MM", "HH:MM"]``
    opening before closing (E069), holidays the ``holidays`` library knows
    (E070); ``TARGET_WARNING`` is E071."""
    errors = []
    zone = conf.get("BUSINESS_TIMEZONE")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        errors.append(
            _error("BUSINESS_TIMEZONE", f"is not a known time zone: {zone!r}.", id_=68)
        )
    days = conf.get("BUSINESS_DAYS")
    if (
        not isinstance(days, list | tuple)
        or not days
        or not all(isinstance(d, int) and not isinstance(d, bool) for d in days)
        or not set(days) <= set(range(7))
    ):
        errors.append(
            _error(
                "BUSINESS_DAYS",
                f"must be a list of weekdays 0-6 (0 = Monday), not {days!r}.",
                id_=69,
            )
        )
    hours = conf.get("BUSINESS_HOURS")
    try:
        opens, closes = (business_hours.parse_time(value) for value in hours)
        valid = opens < closes
    except (TypeError, ValueError):
        valid = False
    if not valid:
        errors.append(
            _error(
                "BUSINESS_HOURS",
                f"must be [opening, closing] as 'HH:MM', opening first, not {hours!r}.",
                hint="For example ['08:00', '17:00'].",
                id_=69,
            )
        )
    return errors + _holidays()


def _holidays() -> list[Error]:
    country = conf.get("HOLIDAYS_COUNTRY")
    subdivision = conf.get("HOLIDAYS_SUBDIVISION")
    if country is None:
        return []
    known = holidays.list_supported_countries()
    if country not in known:
        return [
            _error(
                "HOLIDAYS_COUNTRY",
                f"is not a country the holidays library knows: {country!r}.",
                hint="An ISO 3166 code such as 'DE', or None for no holidays.",
                id_=70,
            )
        ]
    if subdivision is not None and subdivision not in known[country]:
        return [
            _error(
                "HOLIDAYS_SUBDIVISION",
                f"is not a subdivision of {country}: {subdivision!r}.",
                hint=f"One of {', '.join(known[country])}, or None.",
                id_=70,
            )
        ]
    return []


def _translation_live_status() -> list[Error]:
    """wagtail-localize copies the source's live status to a new translation
    unless this setting is False: "Translate" would publish past the workflow."""
    if "wagtail_localize" not in settings.INSTALLED_APPS:
        return []
    sync = getattr(settings, "WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE", True)
    if sync is False:
        return []
    return [
        Error(
            "WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE must be False: "
            "otherwise translating a live page publishes the translation at "
            "once, even for an editor without publish permission.",
            hint="Set WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE = False; "
            "translations then start as drafts and go through the workflow.",
            id="vivadesk.E060",
        )
    ]


def check_vivadesk_settings() -> list[Error]:
    errors: list[Error] = []
    raw = getattr(settings, "VIVADESK", {})
    if not isinstance(raw, dict):
        return [Error("VIVADESK must be a dict.", id="vivadesk.E000")]
    for key in raw:
        if key not in conf.DEFAULTS:
            close = difflib.get_close_matches(str(key), conf.DEFAULTS, n=1)
            errors.append(
                _error(
                    key,
                    "is not a known setting.",
                    hint=f"Did you mean {close[0]!r}?" if close else "",
                    id_=99,
                )
            )
    prefix = conf.get("TICKET_PREFIX")
    if not isinstance(prefix, str) or not PREFIX_RE.fullmatch(prefix):
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
    errors += _from_email()
    errors += _message_id_domain()
    base_url = conf.get("BASE_URL")
    try:
        if not isinstance(base_url, str):
            raise TypeError
        URLValidator(schemes=["http", "https"])(base_url)
    except (ValidationError, TypeError):
        errors.append(
            _error(
                "BASE_URL",
                f"must be an http(s) URL, not {base_url!r}.",
                hint="The public URL of the site, e.g. 'https://www.viva.de'.",
                id_=5,
            )
        )
    errors += _positive_duration("AUTO_CLOSE_AFTER", 6)
    errors += _positive_duration("ACTIVATION_MAX_AGE", 7)
    errors += _positive_duration("FORM_MAX_AGE", 50)
    errors += _positive_int("ATTACHMENT_MAX_SIZE", 8)
    errors += _positive_int("ATTACHMENT_MAX_COUNT", 9)
    errors += _attachment_quota()
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
    errors += _storage()
    errors += _positive_duration("RAW_MAIL_RETENTION", 12)
    errors += _positive_int("OUTBOX_MAX_ATTEMPTS", 13)
    errors += _positive_duration("OUTBOX_RETRY_DELAY", 14)
    errors += _positive_duration("OUTBOX_RETRY_MAX_DELAY", 26)
    errors += _positive_int("INBOUND_FLOOD_MAX", 27)
    errors += _positive_duration("INBOUND_FLOOD_WINDOW", 28)
    errors += _positive_int("INBOUND_MAX_SIZE", 29)
    errors += _positive_duration("INBOUND_RETRY_DELAY", 54)
    errors += _positive_duration("INBOUND_RETRY_MAX_DELAY", 55)
    errors += _positive_int("INBOUND_TRANSIENT_ATTEMPTS", 56)
    errors += _positive_duration("INBOUND_STUCK_AFTER", 57)
    errors += _positive_duration("MAILBOX_POLL_LEASE", 58)
    authserv_id = conf.get("MAIL_AUTHSERV_ID")
    if authserv_id is not None and (
        not isinstance(authserv_id, str) or not authserv_id.strip()
    ):
        errors.append(
            _error(
                "MAIL_AUTHSERV_ID",
                f"must be None or the authserv-id of our mail server, "
                f"not {authserv_id!r}.",
                id_=30,
            )
        )
    if conf.get("OUTBOX_STUCK_AFTER") is not None:
        errors += _positive_duration("OUTBOX_STUCK_AFTER", 15)
    languages = {code for code, _name in settings.LANGUAGES}
    fallback = conf.get("FALLBACK_LANGUAGE")
    if not isinstance(fallback, str) or fallback not in languages:
        errors.append(
            _error(
                "FALLBACK_LANGUAGE",
                f"must be one of LANGUAGES ({', '.join(sorted(languages))}), "
                f"not {fallback!r}.",
                id_=16,
            )
        )
    errors += _rates()
    errors += _min_fill_seconds()
    errors += _trusted_proxies()
    errors += _helpdesk_phone()
    errors += _positive_duration("SPAM_RETENTION", 52)
    errors += _positive_duration("RATING_LINK_MAX_AGE", 72)
    errors += _positive_duration("RATING_CHANGE_PERIOD", 73)
    errors += _positive_duration("PRESENCE_TIMEOUT", 74)
    errors += _spam_files_max_bytes()
    errors += _privacy()
    errors += _adapter()
    errors += _translation_live_status()
    errors += _business_week()
    errors += _positive_duration("TARGET_WARNING", 71)
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
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or timeout <= 0
    ):
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
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        errors.append(
            Error(
                "Q_CLUSTER['max_attempts'] must be 1 or more.",
                hint="0 means a failing task is retried forever.",
                id="vivadesk.E104",
            )
        )
    return errors


def check_mail_authentication() -> list[Warning]:
    """Without our MX's authserv-id nothing authenticates the ``From`` of
    inbound mail (``mail.authentication``): anybody may write as a customer."""
    if conf.get("MAIL_AUTHSERV_ID"):
        return []
    return [
        Warning(
            "VIVADESK['MAIL_AUTHSERV_ID'] is not set: nothing authenticates the "
            "sender of inbound mail, so anybody can write to the help desk in a "
            "customer's name.",
            hint="Set it to the authserv-id your MX writes into its "
            "Authentication-Results headers (with a DMARC check there, e.g. "
            "OpenDMARC or rspamd); the reference site reads "
            "VIVADESK_MAIL_AUTHSERV_ID from the environment.",
            id="vivadesk.W001",
        )
    ]


def vivadesk_settings_check(app_configs=None, **kwargs) -> list[Error]:
    return check_vivadesk_settings()


def q_cluster_check(app_configs=None, **kwargs) -> list[Error]:
    return check_q_cluster()


def mail_authentication_check(app_configs=None, **kwargs) -> list[Warning]:
    return check_mail_authentication()


def register_checks() -> None:
    """Called from ``AppConfig.ready()``; registering twice is harmless (the
    registry is a set of these module-level functions)."""
    register(vivadesk_settings_check, Tags.compatibility)
    register(q_cluster_check, Tags.compatibility)
    register(mail_authentication_check, Tags.security, deploy=True)
    register(mailbox_guard.check_django_mailbox, Tags.security)
