"""Load test: gunicorn + PostgreSQL on 127.0.0.1, driven by locust for a
bounded time, then a check that every accepted contact form is exactly one
ticket (:func:`run`). Wrapped by ``manage.py vivadesk_load``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SEED_TICKETS_PER_CUSTOMER = 3
#: Rate limits out of the way: every simulated user comes from 127.0.0.1.
UNLIMITED = "1000000/h"
LOAD_VIVADESK = {
    "RATE_FORM_PER_IP": UNLIMITED,
    "RATE_CONFIRMATIONS_GLOBAL": UNLIMITED,
    "LOGIN_RATE_PER_IP": UNLIMITED,
    "LOGIN_RATE_PER_ACCOUNT": UNLIMITED,
}
#: The environment of the children does not reach real services.
DROPPED_ENV = ("REDIS_URL", "EMAIL_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")


@dataclass
class Options:
    duration: int = 30
    users: int = 24
    spawn_rate: float = 12.0
    workers: int = 3
    threads: int = 4
    customers: int = 10
    double_submit_share: float = 0.1
    database_url: str | None = None
    postgres_url: str = DEFAULT_POSTGRES_URL
    keep: bool = False


# -- the parent --------------------------------------------------------------


def run(options: Options, out) -> bool:
    """Run the whole load test, print the figures; ``True`` when clean.

    Steps (the parent process never touches the load database through
    Django; everything that does runs in a child process with the load
    settings):

    1. A throw-away PostgreSQL database ``vivadesk_load_<random>`` (dropped
       at the end), or an existing one given with ``--database-url``.
    2. A settings module in a temp folder: the current settings with
       ``DEBUG`` off, the rate limits raised out of the way (every user comes
       from 127.0.0.1), files and sent mail in the temp folder, Redis and
       real SMTP left out (tasks queue in the database; nothing is
       delivered).
    3. ``migrate``, ``createcachetable``, ``vivadesk_demo`` and seeded
       customers (confirmed accounts with three tickets each, made through
       the services).
    4. gunicorn on a free port (``--workers`` × ``--threads``), locust
       headless (``locustfile.py``) for ``--duration`` seconds.
    5. The check: per accepted submission exactly one ticket with its
       subject, address and reference, one first message; no other load
       tickets.

    The figures printed: requests/s, failures, p50/p95 per request type,
    ticket counts. Returns ``False`` on any failure, 5xx, server error, lost
    or duplicated ticket.
    """
    work = Path(tempfile.mkdtemp(prefix="vivadesk-load-"))
    run_id = secrets.token_hex(4)
    database = None
    server = None
    try:
        if options.database_url:
            database_url = options.database_url
        else:
            database = f"vivadesk_load_{run_id}"
            database_url = create_database(options.postgres_url, database)
            then = "kept" if options.keep else "dropped at the end"
            out.write(f"database: {database} ({then})\n")
        env = child_env(work, database_url)
        out.write("migrating and seeding …\n")
        began = time.monotonic()
        for command in (
            ["migrate", "--noinput"],
            ["createcachetable"],
            ["vivadesk_demo"],
        ):
            django_command(env, command, work)
        plan_path = work / "plan.json"
        django_command(
            env,
            [
                "vivadesk_load",
                "--phase=seed",
                f"--plan={plan_path}",
                f"--run-id={run_id}",
                f"--customers={options.customers}",
            ],
            work,
        )
        plan = json.loads(plan_path.read_text())
        plan["double_submit_share"] = options.double_submit_share
        plan_path.write_text(json.dumps(plan))

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_log = work / "gunicorn.log"
        server = start_gunicorn(env, work, port, options, server_log)
        wait_until_up(server, base + plan["contact_url"], server_log)
        out.write(
            f"gunicorn on {base}: {options.workers} workers × {options.threads} "
            f"threads; locust: {options.users} users for {options.duration} s …\n"
        )
        results_path = work / "submissions.json"
        ready = time.monotonic()
        locust = run_locust(env, work, base, plan_path, results_path, options)
        ran = time.monotonic()
        stop(server)
        server = None
        stopped = time.monotonic()
        results = json.loads(results_path.read_text())
        verify_path = work / "verify.json"
        django_command(
            env,
            [
                "vivadesk_load",
                "--phase=verify",
                f"--plan={plan_path}",
                f"--results={results_path}",
                f"--out={verify_path}",
            ],
            work,
        )
        tickets = json.loads(verify_path.read_text())
        server_errors = count_server_errors(server_log)
        checked = time.monotonic()
        out.write(
            f"(set-up {ready - began:.0f} s, locust {ran - ready:.0f} s, server "
            f"stop {stopped - ran:.0f} s, check {checked - stopped:.0f} s)\n"
        )
        ok = report(out, results, tickets, server_errors, locust.returncode, options)
        if not ok and options.keep:
            out.write(f"kept: {work}\n")
        return ok
    finally:
        if server is not None:
            stop(server)
        if database and not options.keep:
            drop_database(options.postgres_url, database)
        if not options.keep:
            _remove_tree(work)


def create_database(postgres_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(postgres_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(postgres_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def postgres_reachable(postgres_url: str = DEFAULT_POSTGRES_URL) -> bool:
    try:
        import psycopg

        with psycopg.connect(postgres_url, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def write_settings(work: Path) -> str:
    """A settings module on top of the current one; returns its name."""
    name = "vivadesk_load_settings"
    (work / f"{name}.py").write_text(
        f'"""Generated by vivadesk_load."""\n'
        f"from {settings.SETTINGS_MODULE} import *  # noqa: F403\n\n"
        "DEBUG = False\n"
        'ALLOWED_HOSTS = ["127.0.0.1", "localhost"]\n'
        f"VIVADESK = {{**globals().get('VIVADESK', {{}}), **{LOAD_VIVADESK!r}}}\n"
        "SILENCED_SYSTEM_CHECKS = [\n"
        "    *globals().get('SILENCED_SYSTEM_CHECKS', []),\n"
        "    'django_ratelimit.E003',\n"
        "    'django_ratelimit.W001',\n"
        "]\n"
    )
    return name


def child_env(work: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    paths = [str(work), *(p for p in sys.path if p and Path(p).is_dir())]
    env.update(
        DJANGO_SETTINGS_MODULE=write_settings(work),
        DATABASE_URL=database_url,
        VIVADESK_VAR_DIR=str(work / "var"),
        PYTHONPATH=os.pathsep.join(dict.fromkeys(paths)),
        PYTHONUNBUFFERED="1",
    )
    (work / "var").mkdir(exist_ok=True)
    return env


def django_command(env, args: list[str], work: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env, work: Path, port: int, options: Options, log: Path):
    module, _dot, attribute = settings.WSGI_APPLICATION.rpartition(".")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            f"{module}:{attribute}",
            f"--bind=127.0.0.1:{port}",
            f"--workers={options.workers}",
            f"--threads={options.threads}",
            "--timeout=60",
            # Longer than a user's pause (the form's fill time): otherwise a
            # POST may go out on a connection the server is just closing,
            # which no client retries. Behind a proxy this is the proxy's job.
            "--keep-alive=75",
            "--graceful-timeout=10",
            f"--error-logfile={log}",
            "--log-level=warning",
        ],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def wait_until_up(server, url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url}:\n{_tail(log)}")


def stop(process, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_locust(env, work, base, plan_path, results_path, options: Options):
    locust_env = {
        **env,
        "VIVADESK_LOAD_PLAN": str(plan_path),
        "VIVADESK_LOAD_RESULTS": str(results_path),
    }
    # cwd is the temp folder: locust reads no locust.conf or pyproject.toml.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            f"--locustfile={LOCUSTFILE}",
            "--headless",
            f"--host={base}",
            f"--users={options.users}",
            f"--spawn-rate={options.spawn_rate}",
            f"--run-time={options.duration}s",
            # users finish the task they are in: no submission cut in half
            "--stop-timeout=30",
            "--only-summary",
            "--loglevel=WARNING",
        ],
        env=locust_env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=options.duration + 180,
    )
    (work / "locust.log").write_text(result.stdout + result.stderr)
    if not results_path.exists():
        raise RuntimeError(f"locust wrote no results:\n{result.stderr[-3000:]}")
    return result


def request_stats(requests: list) -> list[dict]:
    """Count, failures, p50/p95 and requests/s per request name and for all
    (the last row); every rate is over the span from the first request's
    start to the last one's end."""
    groups = defaultdict(list)
    for row in requests:
        groups[row[0]].append(row)
    began = min((row[2] - row[1] / 1000 for row in requests), default=0)
    ended = max((row[2] for row in requests), default=0)
    span = ended - began
    stats = [_stats(name, rows, span) for name, rows in sorted(groups.items())]
    return [*stats, _stats("all requests", requests, span)]


def _stats(name: str, rows: list, span: float) -> dict:
    times = sorted(row[1] for row in rows)
    return {
        "name": name,
        "count": len(rows),
        "failures": sum(1 for row in rows if row[3]),
        "p50": _percentile(times, 50),
        "p95": _percentile(times, 95),
        "rate": len(rows) / span if span > 0 else 0.0,
    }


def _percentile(values: list[float], percent: int) -> float:
    """Nearest-rank percentile of sorted values (0 for none)."""
    if not values:
        return 0.0
    rank = max(1, -(-percent * len(values) // 100))
    return values[rank - 1]


def error_counts(requests: list) -> dict[str, int]:
    counts = defaultdict(int)
    for name, _ms, _end, error in requests:
        if error:
            counts[f"{name}: {error}"] += 1
    return dict(counts)


def count_server_errors(log: Path) -> int:
    if not log.exists():
        return 0
    text = log.read_text(errors="replace")
    return sum(
        1
        for line in text.splitlines()
        if "[ERROR]" in line or "[CRITICAL]" in line or line.startswith("Traceback")
    )


def report(out, results, tickets, server_errors, locust_rc, options) -> bool:
    stats = request_stats(results["requests"])
    total = stats[-1]
    out.write(
        f"\n{'request':<24}{'count':>7}{'fail':>6}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'req/s':>8}\n"
    )
    for row in stats:
        out.write(
            f"{row['name']:<24}{row['count']:>7}{row['failures']:>6}"
            f"{row['p50']:>9.0f}{row['p95']:>9.0f}{row['rate']:>8.1f}\n"
        )
    for error, count in sorted(error_counts(results["requests"]).items()):
        out.write(f"  error ×{count}: {error}\n")
    out.write(
        f"\nthroughput: {total['rate']:.1f} requests/s "
        f"({total['count']} requests, {options.users} users, {options.duration} s), "
        f"{total['failures']} failures, p50 {total['p50']:.0f} ms, "
        f"p95 {total['p95']:.0f} ms\n"
        f"tickets: {tickets['accepted']} forms accepted "
        f"({tickets['double_submits']} sent twice) -> {tickets['tickets']} tickets; "
        f"lost {len(tickets['lost'])}, duplicated {len(tickets['duplicated'])}, "
        f"mismatched {len(tickets['mismatched'])}, "
        f"unaccounted {len(tickets['unaccounted'])}, "
        f"unfinished {len(tickets['unfinished'])}\n"
        f"server errors logged: {server_errors}\n"
    )
    problems = ("lost", "duplicated", "mismatched", "unaccounted", "unfinished")
    for key in problems:
        for item in tickets[key][:5]:
            out.write(f"  {key}: {item}\n")
    return (
        total["failures"] == 0
        and server_errors == 0
        and locust_rc == 0
        and tickets["accepted"] > 0
        and not any(tickets[key] for key in problems)
    )


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# -- the children (Django set up on the load database) ------------------------


def seed(plan_path: Path, run_id: str, customers: int) -> None:
    """Confirmed customers with tickets (through the services), and the plan
    for locust: URLs, the customers, the form's minimum fill time."""
    from django.urls import reverse
    from django.utils import translation

    from vivadesk_wagtail import conf
    from vivadesk_wagtail.models import ContactPage
    from vivadesk_wagtail.services import customers as customer_service
    from vivadesk_wagtail.services import intake

    page = ContactPage.objects.live().filter(locale__language_code="de").first()
    if page is None:
        raise RuntimeError("no live German contact page (vivadesk_demo)")
    password = secrets.token_urlsafe(16)
    seeded = []
    for n in range(customers):
        email = f"load-{run_id}-customer{n}@example.com"
        references = []
        for i in range(SEED_TICKETS_PER_CUSTOMER):
            ticket = intake.submit(
                intake.Submission(
                    name=f"Kunde {n}",
                    email=email,
                    subject=f"Seed {run_id} {n}.{i}",
                    message="Eine Frage zur Rechnung.",
                    language="de",
                    category=page.category,
                    acknowledge=False,
                )
            )
            references.append(ticket.reference)
        customer_service.confirm(
            ticket.customer, full_name=f"Kunde {n}", password=password
        )
        seeded.append({"email": email, "references": references})
    with translation.override("de"):
        urls = {
            "login_url": reverse("vivadesk_wagtail:login"),
            "my_requests_url": reverse("vivadesk_wagtail:my_requests"),
            "ticket_url": reverse("vivadesk_wagtail:ticket", args=["REFERENCE"]),
        }
    plan = {
        "run": run_id,
        "contact_url": page.relative_url(page.get_site()),
        **urls,
        "password": password,
        "customers": seeded,
        "min_fill_seconds": conf.get("MIN_FILL_SECONDS"),
        "double_submit_share": 0.1,
    }
    plan_path.write_text(json.dumps(plan))


def verify(plan_path: Path, results_path: Path, out_path: Path) -> None:
    """Compare locust's accepted submissions with the tickets in the database."""
    from django.db.models import Count

    from vivadesk_wagtail.models import Ticket

    plan = json.loads(plan_path.read_text())
    submissions = json.loads(results_path.read_text())["submissions"]
    found = defaultdict(list)
    tickets = (
        Ticket.objects.filter(subject__startswith=f"Load {plan['run']} ")
        .annotate(message_count=Count("messages"))
        .values_list("subject", "reference", "customer__email", "message_count")
    )
    for subject, reference, email, message_count in tickets:
        found[subject].append((reference, email.lower(), message_count))
    accepted = [s for s in submissions if s["status"] == "ok"]
    lost, duplicated, mismatched = [], [], []
    for entry in submissions:
        rows = found.get(entry["subject"], [])
        if len(rows) > 1:
            duplicated.append(entry["subject"])
        if entry["status"] != "ok":
            continue
        if not rows:
            lost.append(entry["subject"])
        elif len(rows) == 1:
            reference, email, message_count = rows[0]
            if (
                reference != entry["references"][0]
                or email != entry["email"].lower()
                or message_count != 1
            ):
                mismatched.append(
                    f"{entry['subject']}: {reference}/{email}/{message_count} "
                    f"messages, expected {entry['references'][0]}/{entry['email']}"
                )
    known = {entry["subject"] for entry in submissions}
    result = {
        "submitted": len(submissions),
        "accepted": len(accepted),
        "double_submits": sum(1 for s in accepted if len(s["references"]) > 1),
        "tickets": sum(len(rows) for rows in found.values()),
        "lost": lost,
        "duplicated": duplicated,
        "mismatched": mismatched,
        "unaccounted": sorted(set(found) - known),
        "unfinished": [s["subject"] for s in submissions if s["status"] == "pending"],
    }
    out_path.write_text(json.dumps(result))
