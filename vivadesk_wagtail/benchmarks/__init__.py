"""Benchmarks: seed a throw-away data set, time pages in-process, print.

Each module's ``run(stdout, …)`` seeds inside a transaction that is rolled
back, so it can run against any database. ``manage.py vivadesk_bench`` runs
them all; timing is median over several runs, with the query count of one.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django.test import Client


def measure(client: Client, path: str, runs: int) -> tuple[float, int]:
    """Median milliseconds of ``runs`` GETs (after a warm-up) and the number
    of queries one GET makes."""
    for _warm in range(3):
        client.get(path)
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _run in range(runs):
        began = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), len(executed)
