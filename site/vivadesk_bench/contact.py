"""Contact-form POST in-process: the request creates account, ticket, first
message and outbox row, and sends no mail itself (target ≤ 50 ms median).

Measured with the database as is and with 10,000 tickets added (each in a
transaction that is rolled back)."""

from __future__ import annotations

import re

from django.db import transaction
from django.test import Client, override_settings

from vivadesk_wagtail.models import ContactPage, Ticket

from .measure import header, measure_calls, row, within


class _Rollback(Exception):
    pass


def run(stdout, *, seeded=(0, 10_000), runs: int = 50) -> None:
    """Per entry of ``seeded``: add that many tickets (0: the database as is),
    POST the form ``runs`` times, print, roll back."""
    page = ContactPage.objects.live().filter(locale__language_code="de").first()
    if page is None:
        stdout.write(
            "contact form POST: skipped (no German contact page; run make setup)\n"
        )
        return
    stdout.write(header())
    for extra in seeded:
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
                _seed(extra)
                _measure(stdout, page, runs, extra)
                raise _Rollback
        except _Rollback:
            pass


def _seed(count: int, customers: int = 10) -> None:
    """``count`` tickets (two messages each) of ``customers`` customers."""
    from .portal import _customer, _tickets

    start = 0
    for n in range(customers if count else 0):
        share = count // customers + (1 if n < count % customers else 0)
        _tickets(_customer(f"contact{n}"), share, start)
        start += share


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


def _measure(stdout, page, runs: int, extra: int) -> None:
    client = Client(HTTP_HOST="localhost")
    url = page.url
    before = Ticket.objects.count()
    stdout.write(
        f"-- {before} tickets in database ({f'{extra} seeded' if extra else 'as is'})\n"
    )

    posts = []

    def ok(response):
        assert response.status_code == 200, response.status_code
        posts.append(response)

    figures = measure_calls(
        lambda data: client.post(url, data),
        runs,
        prepare=lambda n: _form(client, url, n),
        check=ok,
    )
    created = Ticket.objects.count() - before
    assert created == len(posts), f"{len(posts)} POSTs created {created} tickets"
    label = "Contact form POST"
    stdout.write(row(label, figures, "≤ 50 ms", within(figures, ms=50)))
