"""Run one piece of work in many threads at once, each thread with its own
database connection (Django connections are per thread), so the work meets
itself as real concurrent transactions."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connections


def run_together(count: int, work):
    """Call ``work(i)`` in ``count`` threads that start at the same moment;
    return the results and the exceptions."""
    barrier = threading.Barrier(count, timeout=60)

    def task(i):
        try:
            barrier.wait()
            return work(i)
        finally:
            connections.close_all()

    results, errors = [], []
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(task, i) for i in range(count)]
        for future in futures:
            try:
                results.append(future.result(timeout=120))
            except Exception as exc:  # noqa: BLE001 - collected and asserted on
                errors.append(exc)
    close_old_connections()
    return results, errors
