"""Contact-form POST in-process: the request creates account, ticket, first
message and outbox row, and sends no mail itself (target ≤ 50 ms median)."""

from __future__ import annotations

import re
import statistics
import time

from django.db import connection, transaction
from django.test import Client, override_settings

from ..models import ContactPage, Ticket


class _Rollback(Exception):
    pass


def run(stdout, *, runs: int = 50) -> None:
    page = ContactPage.objects.live().filter(locale__language_code="de").first()
    if page is None:
        stdout.write(
            "contact form POST: skipped (no German contact page; run make setup)\n"
        )
        return
    try:
        with (
            transaction.atomic(),
            override_settings(
                VIVADESK={
                    "MIN_FILL_SECONDS": 0,
                    "RATE_FORM_PER_IP": "100000/h",
                    "RATE_CONFIRMATIONS_GLOBAL": "100000/h",
                },
            ),
        ):
            _measure(stdout, page, runs)
            raise _Rollback
    except _Rollback:
        pass


def _form(client: Client, url: str, n: int) -> dict:
    html = client.get(url).content.decode()
    shown = re.search(r'name="shown" value="([^"]+)"', html).group(1)
    return {
        "name": "Bench Mark",
        "email": f"bench{n}@example.com",
        "subject": "Benchmark",
        "message": "Eine Frage zum Drucker.",
        "website": "",
        "shown": shown,
        "idempotency_key": f"bench-{n}",
    }


def _measure(stdout, page, runs: int) -> None:
    client = Client(HTTP_HOST="localhost")
    url = page.url
    before = Ticket.objects.count()
    times, queries = [], []
    for n in range(runs):
        data = _form(client, url, n)
        executed = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append(sql)
            return execute(sql, params, many, context)

        began = time.perf_counter()
        with connection.execute_wrapper(count):
            response = client.post(url, data)
        times.append((time.perf_counter() - began) * 1000)
        queries.append(len(executed))
        assert response.status_code == 200
    created = Ticket.objects.count() - before
    stdout.write(
        f"Contact form POST: median {statistics.median(times):6.2f} ms, "
        f"min {min(times):6.2f}, max {max(times):6.2f}, "
        f"{statistics.median(queries):.0f} queries, {created} tickets\n"
    )
