"""``manage.py check --deploy`` with the production settings reports nothing
when the environment is complete, and fails when a part of it is missing or
weak (README, "Production")."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MANAGE = REPO / "site" / "manage.py"


def production_env(tmp_path, **changes) -> dict[str, str]:
    """The smallest complete environment of ``settings.production``; a value
    of ``None`` in ``changes`` removes that variable."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "vivadesk_site.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "www.viva.example",
        "DATABASE_URL": "postgres://vivadesk@127.0.0.1:5432/vivadesk",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp+tls://helpdesk:secret@smtp.viva.example:587",
        "VIVADESK_BASE_URL": "https://www.viva.example",
        "VIVADESK_VAR_DIR": str(tmp_path / "var"),
        # Our MX's authserv-id: without it nothing authenticates inbound From.
        "VIVADESK_MAIL_AUTHSERV_ID": "mx.viva.example",
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def check_deploy(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MANAGE), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing(tmp_path):
    result = check_deploy(production_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "ERRORS" not in output
    assert "System check identified no issues (0 silenced)." in output
    assert "System check identified some issues" not in output


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"SECRET_KEY": "too-short-and-guessable"}, "security.W009"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"ALLOWED_HOSTS": ""}, "security.W020"),
        # Without Redis the rate-limit counters would live in one process.
        ({"REDIS_URL": None}, "django_ratelimit.E003"),
        # Without our MX's authserv-id anybody can mail as a customer.
        ({"VIVADESK_MAIL_AUTHSERV_ID": None}, "vivadesk.W001"),
        ({"VIVADESK_MAIL_AUTHSERV_ID": ""}, "vivadesk.W001"),
    ],
    ids=[
        "short-key",
        "no-key",
        "no-ssl-redirect",
        "no-hsts",
        "no-hosts",
        "no-redis",
        "no-authserv-id",
        "empty-authserv-id",
    ],
)
def test_check_deploy_fails_when_incomplete_or_weak(tmp_path, changes, expected):
    result = check_deploy(production_env(tmp_path, **changes))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert expected in output


def test_debug_from_the_environment_is_ignored(tmp_path):
    """``DEBUG=true`` in the environment cannot switch production to debug."""
    env = production_env(tmp_path, DEBUG="true")
    result = subprocess.run(
        [
            sys.executable,
            str(MANAGE),
            "shell",
            "-c",
            "from django.conf import settings; print('DEBUG', settings.DEBUG)",
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout
    assert check_deploy(env).returncode == 0
