"""The load test: gunicorn + PostgreSQL on 127.0.0.1, locust on the
contact form and the portal for a bounded time; no errors, no lost or
duplicated tickets (``manage.py vivadesk_load``)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service
from vivadesk_bench import load

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.postgres
def test_load_test_shows_no_errors_and_no_lost_or_duplicated_tickets(tmp_path):
    for module in ("gunicorn", "locust"):
        if importlib.util.find_spec(module) is None:
            require_service(f"{module} is not installed (pip install -e '.[dev]')")
    if not load.postgres_reachable(load.DEFAULT_POSTGRES_URL):
        require_service(f"PostgreSQL is not reachable at {load.DEFAULT_POSTGRES_URL}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vivadesk_site.settings.dev",
        "VIVADESK_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "site" / "manage.py"),
            "vivadesk_load",
            "--duration=12",
            "--users=16",
            "--customers=6",
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "load test passed" in output
    throughput = re.search(
        r"throughput: ([\d.]+) requests/s \((\d+) requests.*?\), (\d+) failures",
        output,
    )
    assert throughput, output
    assert float(throughput.group(1)) > 0
    assert int(throughput.group(2)) > 0
    assert throughput.group(3) == "0", output
    tickets = re.search(
        r"tickets: (\d+) forms accepted \((\d+) sent twice\) -> (\d+) tickets; "
        r"lost 0, duplicated 0, mismatched 0, unaccounted 0, unfinished 0",
        output,
    )
    assert tickets, output
    assert int(tickets.group(1)) > 0
    assert tickets.group(1) == tickets.group(3)
    assert "server errors logged: 0" in output
