"""System checks of the ``VIVADESK`` settings and the django-q2 cluster: every
bad value is an error that names its key, never a traceback."""

from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from vivadesk_wagtail import checks, conf

BAD_VALUES = [
    # (key, bad value, expected check id)
    ("TICKET_PREFIX", "", "vivadesk.E001"),
    ("TICKET_PREFIX", "V", "vivadesk.E001"),
    ("TICKET_PREFIX", "1VIVA", "vivadesk.E001"),
    ("TICKET_PREFIX", "VI-VA", "vivadesk.E001"),
    ("TICKET_PREFIX", "VIVA\n", "vivadesk.E001"),
    ("TICKET_PREFIX", "A" * 13, "vivadesk.E001"),
    ("TICKET_PREFIX", None, "vivadesk.E001"),
    ("TICKET_FIRST_NUMBER", 0, "vivadesk.E002"),
    ("TICKET_FIRST_NUMBER", -5, "vivadesk.E002"),
    ("TICKET_FIRST_NUMBER", "1000", "vivadesk.E002"),
    ("TICKET_FIRST_NUMBER", 1.5, "vivadesk.E002"),
    ("TICKET_FIRST_NUMBER", True, "vivadesk.E002"),
    ("HELPDESK_EMAIL", "not-an-address", "vivadesk.E003"),
    ("HELPDESK_EMAIL", "", "vivadesk.E003"),
    ("HELPDESK_EMAIL", None, "vivadesk.E003"),
    ("HELPDESK_EMAIL", "VIVA <helpdesk@viva.de>", "vivadesk.E003"),
    ("STAFF_NOTIFY_EMAIL", "team-at-viva.de", "vivadesk.E004"),
    ("BASE_URL", "www.viva.de", "vivadesk.E005"),
    ("BASE_URL", "ftp://viva.de", "vivadesk.E005"),
    ("BASE_URL", "", "vivadesk.E005"),
    ("BASE_URL", None, "vivadesk.E005"),
    ("AUTO_CLOSE_AFTER", 3, "vivadesk.E006"),
    ("AUTO_CLOSE_AFTER", "3 weeks", "vivadesk.E006"),
    ("AUTO_CLOSE_AFTER", timedelta(0), "vivadesk.E006"),
    ("AUTO_CLOSE_AFTER", timedelta(days=-1), "vivadesk.E006"),
    ("ACTIVATION_MAX_AGE", 7, "vivadesk.E007"),
    ("ACTIVATION_MAX_AGE", timedelta(0), "vivadesk.E007"),
    ("FORM_MAX_AGE", 3600, "vivadesk.E050"),
    ("ATTACHMENT_MAX_SIZE", 0, "vivadesk.E008"),
    ("ATTACHMENT_MAX_SIZE", -1, "vivadesk.E008"),
    ("ATTACHMENT_MAX_SIZE", "10MB", "vivadesk.E008"),
    ("ATTACHMENT_MAX_COUNT", 0, "vivadesk.E009"),
    ("ATTACHMENT_MAX_COUNT", None, "vivadesk.E009"),
    ("ATTACHMENT_ALLOWED_TYPES", "application/pdf", "vivadesk.E010"),
    ("ATTACHMENT_ALLOWED_TYPES", ["pdf"], "vivadesk.E010"),
    ("STORAGE", "no-such-storage", "vivadesk.E011"),
    ("STORAGE", None, "vivadesk.E011"),
    ("STORAGE", "default", "vivadesk.E019"),
    ("RAW_MAIL_RETENTION", 365, "vivadesk.E012"),
    ("OUTBOX_MAX_ATTEMPTS", 0, "vivadesk.E013"),
    ("OUTBOX_RETRY_DELAY", timedelta(seconds=-1), "vivadesk.E014"),
    ("OUTBOX_STUCK_AFTER", 600, "vivadesk.E015"),
    ("FALLBACK_LANGUAGE", "fr", "vivadesk.E016"),
    ("FALLBACK_LANGUAGE", ["en"], "vivadesk.E016"),
    ("FROM_EMAIL", "VIVA HelpDesk", "vivadesk.E017"),
    ("FROM_EMAIL", "VIVA <helpdesk@viva.de>\nBcc: x@example.com", "vivadesk.E017"),
    ("MESSAGE_ID_DOMAIN", "not a domain", "vivadesk.E018"),
    ("MESSAGE_ID_DOMAIN", "-viva.de", "vivadesk.E018"),
    ("RATE_FORM_PER_IP", "10 per hour", "vivadesk.E020"),
    ("RATE_FORM_PER_IP", 10, "vivadesk.E020"),
    ("RATE_CONFIRMATIONS_PER_ADDRESS", "0/h", "vivadesk.E021"),
    ("RATE_CONFIRMATIONS_GLOBAL", "200/w", "vivadesk.E022"),
    ("RATE_ACTIVATION_RESEND", "", "vivadesk.E023"),
    ("LOGIN_RATE_PER_IP", "30 per 10m", "vivadesk.E031"),
    ("LOGIN_RATE_PER_ACCOUNT", "0/15m", "vivadesk.E032"),
    ("RATE_PASSWORD_RESET_PER_IP", "10 per hour", "vivadesk.E041"),
    ("RATE_PASSWORD_RESET_PER_ADDRESS", None, "vivadesk.E042"),
    ("RATE_PORTAL_POSTS_PER_CUSTOMER", "0/10m", "vivadesk.E043"),
    ("ATTACHMENT_QUOTA_PER_CUSTOMER", 0, "vivadesk.E044"),
    ("ATTACHMENT_QUOTA_PER_CUSTOMER", "200MB", "vivadesk.E044"),
    ("MIN_FILL_SECONDS", -1, "vivadesk.E024"),
    ("MIN_FILL_SECONDS", "2", "vivadesk.E024"),
    ("TRUSTED_PROXIES", "10.0.0.2", "vivadesk.E025"),
    ("TRUSTED_PROXIES", ["proxy.local"], "vivadesk.E025"),
    ("HELPDESK_PHONE", "", "vivadesk.E051"),
    ("HELPDESK_PHONE", "+49 30\n1234", "vivadesk.E051"),
    ("HELPDESK_PHONE", 4930123, "vivadesk.E051"),
    ("SPAM_RETENTION", 30, "vivadesk.E052"),
    ("SPAM_RETENTION", timedelta(0), "vivadesk.E052"),
    ("SPAM_FILES_MAX_BYTES", -1, "vivadesk.E053"),
    ("SPAM_FILES_MAX_BYTES", "200 MB", "vivadesk.E053"),
    ("SPAM_FILES_MAX_BYTES", None, "vivadesk.E053"),
    ("OUTBOX_RETRY_MAX_DELAY", 3600, "vivadesk.E026"),
    ("INBOUND_FLOOD_MAX", 0, "vivadesk.E027"),
    ("INBOUND_FLOOD_WINDOW", timedelta(0), "vivadesk.E028"),
    ("INBOUND_MAX_SIZE", "50MB", "vivadesk.E029"),
    ("INBOUND_RETRY_DELAY", 60, "vivadesk.E054"),
    ("INBOUND_RETRY_DELAY", timedelta(0), "vivadesk.E054"),
    ("INBOUND_RETRY_MAX_DELAY", 3600, "vivadesk.E055"),
    ("INBOUND_TRANSIENT_ATTEMPTS", 0, "vivadesk.E056"),
    ("INBOUND_TRANSIENT_ATTEMPTS", "5", "vivadesk.E056"),
    ("INBOUND_STUCK_AFTER", 120, "vivadesk.E057"),
    ("INBOUND_STUCK_AFTER", timedelta(seconds=-1), "vivadesk.E057"),
    ("MAIL_AUTHSERV_ID", "", "vivadesk.E030"),
    ("MAIL_AUTHSERV_ID", 42, "vivadesk.E030"),
    ("MAILBOX_POLL_LEASE", 60, "vivadesk.E058"),
    ("MAILBOX_POLL_LEASE", timedelta(0), "vivadesk.E058"),
    ("ADAPTER", "myapp.adapter.NoSuchAdapter", "vivadesk.E059"),
    ("ADAPTER", "vivadesk_wagtail.conf.DEFAULTS", "vivadesk.E059"),
    ("ADAPTER", "django.views.View", "vivadesk.E059"),
    ("RATE_EXPORTS_PER_CUSTOMER", "3 per day", "vivadesk.E060"),
    ("RATE_ERASURE_MAILS_PER_CUSTOMER", 3, "vivadesk.E061"),
    ("EXPORT_VALID_FOR", 7, "vivadesk.E062"),
    ("ERASURE_CONFIRM_MAX_AGE", timedelta(0), "vivadesk.E063"),
    ("ERASURE_GRACE_PERIOD", None, "vivadesk.E064"),
    ("ERASURE_GRACE_PERIOD", timedelta(days=-1), "vivadesk.E064"),
    ("ERASURE_TICKETS", "anonymize", "vivadesk.E065"),
    ("ERASURE_TICKETS", None, "vivadesk.E065"),
    ("CLOSED_TICKET_RETENTION", 1095, "vivadesk.E066"),
    ("HELD_MAIL_RETENTION", timedelta(0), "vivadesk.E067"),
    ("BUSINESS_TIMEZONE", "Europe/Atlantis", "vivadesk.E068"),
    ("BUSINESS_DAYS", [0, 7], "vivadesk.E069"),
    ("BUSINESS_HOURS", ["17:00", "08:00"], "vivadesk.E069"),
    ("HOLIDAYS_COUNTRY", "XX", "vivadesk.E070"),
    ("HOLIDAYS_SUBDIVISION", "ZZ", "vivadesk.E070"),
    ("TARGET_WARNING", timedelta(0), "vivadesk.E071"),
    ("RATING_LINK_MAX_AGE", 7, "vivadesk.E072"),
    ("RATING_CHANGE_PERIOD", 7, "vivadesk.E073"),
    ("PRESENCE_TIMEOUT", timedelta(0), "vivadesk.E074"),
]


def test_the_reference_site_settings_pass():
    assert checks.check_vivadesk_settings() == []
    assert checks.check_q_cluster() == []


def test_the_defaults_pass(settings):
    settings.VIVADESK = {}
    assert checks.check_vivadesk_settings() == []


def test_every_key_may_be_set_to_a_good_value(settings):
    settings.VIVADESK = {
        "TICKET_PREFIX": "ACME2",
        "TICKET_FIRST_NUMBER": 1,
        "HELPDESK_EMAIL": "support@acme.example",
        "FROM_EMAIL": "ACME Support <support@acme.example>",
        "STAFF_NOTIFY_EMAIL": "team@acme.example",
        "BASE_URL": "https://www.acme.example/",
        "MESSAGE_ID_DOMAIN": "mail.acme.example",
        "AUTO_CLOSE_AFTER": timedelta(days=10),
        "ACTIVATION_MAX_AGE": timedelta(hours=12),
        "FORM_MAX_AGE": timedelta(hours=1),
        "ATTACHMENT_MAX_SIZE": 1024,
        "ATTACHMENT_MAX_COUNT": 1,
        "ATTACHMENT_ALLOWED_TYPES": ("application/pdf",),
        "STORAGE": "vivadesk_private",
        "RAW_MAIL_RETENTION": timedelta(days=30),
        "OUTBOX_MAX_ATTEMPTS": 1,
        "OUTBOX_RETRY_DELAY": timedelta(seconds=30),
        "OUTBOX_RETRY_MAX_DELAY": timedelta(minutes=30),
        "INBOUND_FLOOD_MAX": 3,
        "INBOUND_FLOOD_WINDOW": timedelta(minutes=5),
        "INBOUND_MAX_SIZE": 1024 * 1024,
        "INBOUND_RETRY_DELAY": timedelta(seconds=10),
        "INBOUND_RETRY_MAX_DELAY": timedelta(minutes=10),
        "INBOUND_TRANSIENT_ATTEMPTS": 3,
        "INBOUND_STUCK_AFTER": timedelta(seconds=30),
        "MAIL_AUTHSERV_ID": "mx.acme.example",
        "MAILBOX_POLL_LEASE": timedelta(seconds=30),
        "OUTBOX_STUCK_AFTER": timedelta(minutes=5),
        "FALLBACK_LANGUAGE": "de",
        "RATE_FORM_PER_IP": "100/5m",
        "RATE_CONFIRMATIONS_PER_ADDRESS": "2/d",
        "RATE_CONFIRMATIONS_GLOBAL": "1000/h",
        "RATE_ACTIVATION_RESEND": "3/h",
        "LOGIN_RATE_PER_IP": "60/h",
        "LOGIN_RATE_PER_ACCOUNT": "5/30m",
        "RATE_PASSWORD_RESET_PER_IP": "20/h",
        "RATE_PASSWORD_RESET_PER_ADDRESS": "5/d",
        "RATE_PORTAL_POSTS_PER_CUSTOMER": "30/h",
        "ATTACHMENT_QUOTA_PER_CUSTOMER": 50 * 1024 * 1024,
        "MIN_FILL_SECONDS": 0.5,
        "TRUSTED_PROXIES": ["10.0.0.2", "::1"],
        "HELPDESK_PHONE": "+49 30 1234567",
        "SPAM_RETENTION": timedelta(days=7),
        "SPAM_FILES_MAX_BYTES": 0,
        "ADAPTER": "vivadesk_wagtail.adapter.DefaultHelpdeskAdapter",
        "EXPORT_VALID_FOR": timedelta(days=2),
        "RATE_EXPORTS_PER_CUSTOMER": "1/d",
        "RATE_ERASURE_MAILS_PER_CUSTOMER": "2/h",
        "ERASURE_CONFIRM_MAX_AGE": timedelta(hours=6),
        "ERASURE_GRACE_PERIOD": timedelta(days=30),
        "ERASURE_TICKETS": "delete",
        "CLOSED_TICKET_RETENTION": timedelta(days=3 * 365),
        "HELD_MAIL_RETENTION": None,
        "BUSINESS_TIMEZONE": "Europe/Vienna",
        "BUSINESS_DAYS": [0, 1, 2, 3, 4, 5],
        "BUSINESS_HOURS": ["07:30", "18:00"],
        "HOLIDAYS_COUNTRY": "DE",
        "HOLIDAYS_SUBDIVISION": "BY",
        "TARGET_WARNING": timedelta(minutes=30),
        "RATING_LINK_MAX_AGE": timedelta(days=14),
        "RATING_CHANGE_PERIOD": timedelta(days=3),
        "PRESENCE_TIMEOUT": timedelta(minutes=2),
    }
    assert set(settings.VIVADESK) == set(conf.DEFAULTS)
    assert checks.check_vivadesk_settings() == []


@pytest.mark.parametrize(("key", "value", "check_id"), BAD_VALUES)
def test_a_bad_value_is_an_error_naming_its_key(settings, key, value, check_id):
    settings.VIVADESK = {**settings.VIVADESK, key: value}
    errors = checks.check_vivadesk_settings()
    assert [e.id for e in errors] == [check_id], errors
    assert f"VIVADESK['{key}']" in errors[0].msg
    assert errors[0].is_serious()


def test_every_key_is_checked():
    checked = {key for key, _value, _id in BAD_VALUES}
    assert checked == set(conf.DEFAULTS)


def test_an_unknown_key_is_an_error_with_a_suggestion(settings):
    settings.VIVADESK = {**settings.VIVADESK, "TICKET_PREFX": "ACME"}
    errors = checks.check_vivadesk_settings()
    assert [e.id for e in errors] == ["vivadesk.E099"]
    assert "VIVADESK['TICKET_PREFX']" in errors[0].msg
    assert "TICKET_PREFIX" in errors[0].hint


@pytest.mark.parametrize("value", ["TICKET_PREFIX=ACME", ["TICKET_PREFIX"], None])
def test_vivadesk_must_be_a_dict(settings, value):
    settings.VIVADESK = value
    assert [e.id for e in checks.check_vivadesk_settings()] == ["vivadesk.E000"]
    # and the app keeps running on its defaults instead of crashing
    assert conf.get("TICKET_PREFIX") == "VIVA"


def test_manage_py_check_reports_the_key(settings):
    settings.VIVADESK = {**settings.VIVADESK, "TICKET_PREFIX": "VI VA"}
    assert any(e.id == "vivadesk.E001" for e in run_checks())
    with pytest.raises(SystemCheckError, match=r"VIVADESK\['TICKET_PREFIX'\]"):
        call_command("check")


GOOD_CLUSTER = {"name": "t", "orm": "default", "timeout": 120, "retry": 180}


@pytest.mark.parametrize(
    ("cluster", "check_ids"),
    [
        ({**GOOD_CLUSTER, "max_attempts": 5}, []),
        ({**GOOD_CLUSTER, "retry": 120, "max_attempts": 5}, ["vivadesk.E103"]),
        ({**GOOD_CLUSTER, "retry": 60, "max_attempts": 5}, ["vivadesk.E103"]),
        # django-q2's default retry is 60 s: not more than a 120 s timeout
        (
            {"name": "t", "orm": "default", "timeout": 120, "max_attempts": 5},
            ["vivadesk.E103"],
        ),
        ({**GOOD_CLUSTER, "max_attempts": 0}, ["vivadesk.E104"]),
        (GOOD_CLUSTER, ["vivadesk.E104"]),
        ({**GOOD_CLUSTER, "max_attempts": "5"}, ["vivadesk.E104"]),
        ({"name": "t", "retry": 180, "max_attempts": 5}, ["vivadesk.E102"]),
        ({"name": "t", "timeout": 0, "max_attempts": 5}, ["vivadesk.E102"]),
        (
            {"name": "t", "timeout": 200, "retry": 100, "max_attempts": 0},
            ["vivadesk.E103", "vivadesk.E104"],
        ),
    ],
)
def test_q_cluster(settings, cluster, check_ids):
    settings.Q_CLUSTER = cluster
    errors = checks.check_q_cluster()
    assert [e.id for e in errors] == check_ids, errors
    for error in errors:
        assert "Q_CLUSTER[" in error.msg


def test_q_cluster_missing(settings):
    del settings.Q_CLUSTER
    assert [e.id for e in checks.check_q_cluster()] == ["vivadesk.E101"]
