"""The ORM broker with the one-statement enqueue (``vivadesk_wagtail.brokers``)
queues exactly the row django-q2's own ORM broker queues, and the cluster's
side of the broker (dequeue, acknowledge) takes it from there."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from vivadesk_wagtail.brokers import ORMBroker

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_site_without_redis_uses_it():
    if not Conf.ORM:
        pytest.skip("the site is configured with Redis")
    assert isinstance(get_broker(), ORMBroker)


def test_enqueue_writes_the_row_of_the_orm_broker():
    ours, theirs = ORMBroker(list_key="vivadesk-test"), ORM(list_key="vivadesk-test")
    pack = SignedPackage.dumps({"id": "x", "func": "math.copysign", "args": (2, -1)})
    with transaction.atomic():
        ours_pk = ours.enqueue(pack)
        theirs_pk = theirs.enqueue(pack)
    ours_row, theirs_row = OrmQ.objects.get(pk=ours_pk), OrmQ.objects.get(pk=theirs_pk)
    assert (ours_row.key, ours_row.payload) == (theirs_row.key, theirs_row.payload)
    assert abs(ours_row.lock - theirs_row.lock).total_seconds() < 5
    assert ours.queue_size() == 2


def test_a_queued_task_is_dequeued_runs_and_is_acknowledged():
    broker = ORMBroker(list_key="vivadesk-test")
    task_id = async_task("math.copysign", 2, -1, broker=broker, sync=False)
    ((pk, payload),) = broker.dequeue()
    task = SignedPackage.loads(payload)
    assert (task["id"], task["func"], task["args"]) == (
        task_id,
        "math.copysign",
        (2, -1),
    )
    assert broker.queue_size() == 0 and broker.lock_size() == 1  # taken
    broker.acknowledge(pk)
    assert not OrmQ.objects.filter(key="vivadesk-test").exists()


def test_outside_a_transaction_it_commits_like_the_orm_broker():
    broker = ORMBroker(list_key="vivadesk-test")
    pk = broker.enqueue(SignedPackage.dumps({"id": "y", "func": "math.floor"}))
    assert OrmQ.objects.filter(pk=pk, key="vivadesk-test").exists()


def test_enqueue_hands_async_task_one_broker_per_process(monkeypatch):
    import os

    import django_q.tasks

    from vivadesk_wagtail import queueing

    brokers = []
    monkeypatch.setattr(
        django_q.tasks,
        "async_task",
        lambda func, *args, broker=None, **kwargs: brokers.append(broker),
    )
    with transaction.atomic():
        queueing.enqueue("math.copysign", 2, -1)
        queueing.enqueue("math.copysign", 3, -1)
    assert len(brokers) == 2
    assert brokers[0] is brokers[1]
    assert type(brokers[0]) is type(get_broker())
    # A forked worker starts without it (and makes its own when it queues).
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, str(len(queueing._brokers)).encode())
        os._exit(0)
    os.waitpid(child, 0)
    os.close(write)
    assert os.read(read, 64) == b"0"
    os.close(read)
    assert queueing.broker() is brokers[0]  # the parent keeps its own
