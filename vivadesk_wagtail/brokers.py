"""The django-q2 broker of a site without Redis (``Q_CLUSTER["orm"]``),
selected with ``Q_CLUSTER["broker_class"]``; with Redis it is not used.
"""

from __future__ import annotations

from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from . import statements


class ORMBroker(ORM):
    """django-q2's ORM broker with a one-statement ``enqueue``.

    django-q2's ORM broker saves each queued task with ``QuerySet.create()``:
    a model instance, ``save()`` and the compiled INSERT, a large share of
    what queueing a task costs (docs/benchmarks.md). Every inbound mail and
    every form queues one, so this writes the same row (key, signed payload,
    lock) with :func:`statements.insert` and leaves everything else to the
    ORM broker. The site selects it with ``Q_CLUSTER["broker_class"]``,
    django-q2's setting for a broker of one's own.
    """

    def enqueue(self, task) -> int:
        # As the ORM broker does: outside a transaction, stale connections
        # are closed first (``get_connection``).
        self.get_connection()
        row = OrmQ(
            key=self.list_key or Conf.CLUSTER_NAME, payload=task, lock=timezone.now()
        )
        statements.insert([row], using=Conf.ORM)
        return row.pk
