"""``make run`` builds mail links from the address it serves, under one host
name: the Makefile hands ``VIVADESK_BASE_URL=http://HOST:PORT`` to the
processes it starts (unless it is set), and the reference settings default
to the same host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    dropped = {"VIVADESK_BASE_URL", "HOST", "PORT", "MAKEFLAGS", "ALLOWED_HOSTS"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra)
    return env


def serve_command(*args: str, **env: str) -> str:
    """What ``make serve`` would run (a dry run, nothing starts)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "serve", *args],
        cwd=REPO,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def settings_value(module: str, expression: str, **env: str) -> str:
    code = f"import {module} as s; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO / "site",
        env=clean_env(**env),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_links_follow_port_and_host():
    command = serve_command("PORT=8123", "HOST=192.0.2.7")
    assert "VIVADESK_BASE_URL=http://192.0.2.7:8123 " in command
    assert "site/run.py 192.0.2.7:8123" in command
    # The printed addresses are the same.
    assert "http://192.0.2.7:8123/admin/" in command


def test_a_set_base_url_is_kept():
    command = serve_command("PORT=8123", VIVADESK_BASE_URL="https://help.example")
    assert "VIVADESK_BASE_URL=https://help.example " in command
    assert "127.0.0.1:8123" in command


def test_one_default_host_everywhere():
    command = serve_command()
    assert "VIVADESK_BASE_URL=http://127.0.0.1:8000 " in command
    default = settings_value("vivadesk_site.settings.base", "s.WAGTAILADMIN_BASE_URL")
    assert default == "http://127.0.0.1:8000"


def test_the_dev_site_answers_on_the_served_host(tmp_path):
    hosts = settings_value(
        "vivadesk_site.settings.dev",
        "s.ALLOWED_HOSTS",
        VIVADESK_BASE_URL="http://192.0.2.7:8123",
        VIVADESK_VAR_DIR=str(tmp_path),
    )
    assert "'192.0.2.7'" in hosts
    assert "'127.0.0.1'" in hosts
