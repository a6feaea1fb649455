"""Measuring: one figure is the median / min / max of several timed runs
(after a warm-up), the queries of one more run (counted with an execute
wrapper) and the tracemalloc peak of one more (traced apart: tracing slows
the timed runs); see :func:`measure_calls`.
"""

from __future__ import annotations

import itertools
import os
import platform
import sqlite3
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.test import Client

#: Width of the label column of :func:`row`.
LABEL = 42


@dataclass(frozen=True)
class Figures:
    """One benchmark figure: times (or rates) of the timed runs, the queries of
    one run and the tracemalloc peak of one run."""

    median: float
    low: float
    high: float
    queries: float
    peak_kib: float
    unit: str = "ms"
    runs: int = 0

    @classmethod
    def of(
        cls, values: Sequence[float], queries: float, peak_kib: float, unit="ms"
    ) -> Figures:
        return cls(
            median=statistics.median(values),
            low=min(values),
            high=max(values),
            queries=queries,
            peak_kib=peak_kib,
            unit=unit,
            runs=len(values),
        )


def peak_kib(call: Callable[[], object]) -> float:
    """The tracemalloc peak (KiB) of ``call()``: memory allocated on top of
    what was allocated before it, at its highest."""
    if tracemalloc.is_tracing():  # e.g. python -X tracemalloc
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        call()
        return (tracemalloc.get_traced_memory()[1] - base) / 1024
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def count_queries(call: Callable[[], object]) -> int:
    """The number of SQL statements ``call()`` executes."""
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        call()
    return len(executed)


def measure_calls(
    send: Callable[[object], object],
    runs: int,
    *,
    prepare: Callable[[int], object] = lambda n: None,
    check: Callable[[object], object] = lambda result: None,
    warm: int = 3,
) -> Figures:
    """Figures of ``send(prepare(n))``: ``warm`` warm-up calls, one counted,
    one traced, then ``runs`` timed ones. ``prepare`` (untimed) builds each
    call's input, ``check`` looks at each call's result."""
    numbers = itertools.count()

    def once(data):
        result = send(data)
        check(result)
        return result

    for _warm in range(warm):
        once(prepare(next(numbers)))
    data = prepare(next(numbers))
    queries = count_queries(lambda: once(data))
    data = prepare(next(numbers))
    peak = peak_kib(lambda: once(data))
    times = []
    for _run in range(runs):
        data = prepare(next(numbers))
        began = time.perf_counter()
        result = send(data)
        times.append((time.perf_counter() - began) * 1000)
        check(result)
    return Figures.of(times, queries, peak)


def measure(client: Client, path: str, runs: int) -> Figures:
    """Figures of ``runs`` GETs of ``path`` (see :func:`measure_calls`)."""

    def ok(response):
        assert response.status_code == 200, (path, response.status_code)

    return measure_calls(lambda _data: client.get(path), runs, check=ok)


def header() -> str:
    """The column heads of :func:`row`."""
    return (
        f"{'':<{LABEL}} {'median':>7} {'min':>7} {'max':>7} {'':<5} "
        f"{'queries':>7} {'peak KiB':>9}  target\n"
    )


def row(label: str, figures: Figures, target: str = "", met: bool | None = None):
    """One aligned line: label, median / min / max, unit, queries, peak KiB
    and the target (with ``ok`` / ``MISSED`` when ``met`` is known)."""
    queries = figures.queries
    shown = f"{queries:.0f}" if float(queries).is_integer() else f"{queries:.2f}"
    if target and met is not None:
        target = f"{target}  {'ok' if met else 'MISSED'}"
    return (
        f"{label:<{LABEL}} {figures.median:7.2f} {figures.low:7.2f} "
        f"{figures.high:7.2f} {figures.unit:<5} {shown:>7} "
        f"{figures.peak_kib:9.0f}  {target}".rstrip()
        + "\n"
    )


def within(figures: Figures, *, ms: float | None = None, queries=None) -> bool:
    """Whether the median is within ``ms`` and the queries within ``queries``."""
    return (ms is None or figures.median <= ms) and (
        queries is None or figures.queries <= queries
    )


def reference_ms() -> float:
    """The median time (ms) of a fixed pure-Python workload: how fast this
    machine runs Python right now. A shared virtual machine's speed varies
    from day to day (here several times over), so figures of different runs are
    only comparable beside this one."""
    times = []
    for _run in range(5):
        began = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i % 7
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def machine() -> str:
    """One line on the machine: CPUs, CPU model, Python, SQLite, database."""
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    cpu = f"{cpus} CPUs" + (f" ({usable} usable)" if usable and usable != cpus else "")
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    vendor = connection.vendor
    if vendor != "sqlite":
        try:
            version = ".".join(map(str, connection.get_database_version()))
            vendor = f"{vendor} {version}"
        except Exception:  # noqa: BLE001 — only a label
            pass
    return (
        f"machine: {cpu}, {model or 'unknown CPU'}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
        f"database {vendor}\n"
        f"reference loop: {reference_ms():.1f} ms (a fixed pure-Python workload; "
        f"compare figures of different runs beside it)\n"
    )
