"""The one seam that queues background tasks (django-q2), and its broker.
It imports nothing else of the project, so any layer may queue a task by its
dotted name (the mail layer queues ``tasks.send_outbound`` without importing
``tasks``, which sits above it).
"""

from __future__ import annotations

import os

from django.db import transaction


def enqueue(func: str, *args) -> None:
    """Queue ``func(*args)`` once the current transaction commits, so a
    rolled-back change queues nothing, whichever broker is configured.

    A broker that is down must not fail the request whose change already
    committed (``robust``): the outbox sweeper queues the row again later.
    """
    from django_q import tasks

    transaction.on_commit(
        lambda: tasks.async_task(func, *args, broker=broker()), robust=True
    )


#: The broker of this process (see :func:`broker`); a forked child starts
#: without one.
_brokers: list = []
os.register_at_fork(after_in_child=_brokers.clear)


def broker():
    """This process's django-q2 broker, made once: ``async_task`` would make
    a new one for every task (for the ORM broker with a check of stale
    connections, which its ``enqueue`` makes again anyway). A forked worker
    makes its own rather than share its parent's connection."""
    from django_q.brokers import get_broker

    if not _brokers:
        _brokers.append(get_broker())
    return _brokers[0]
