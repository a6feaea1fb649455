"""The life of a data-protection request (``services.data_requests``): who
may ask, one export at a time, the erasure's confirmation, grace period and
cancellation, and what the sweeper finds again after a lost task or a
killed worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from tests import factories
from vivadesk_wagtail import privacy_tasks, signals
from vivadesk_wagtail.models import (
    DataRequest,
    DataRequestKind,
    DataRequestState,
    ErasureReason,
    RequestedBy,
)
from vivadesk_wagtail.services import data_requests

pytestmark = pytest.mark.django_db


@pytest.fixture
def mails():
    """The mails the service asked for, as ``(event, request pk)``."""
    seen = []

    def receiver(sender, request, event, **kwargs):
        seen.append((event, request.pk))

    signals.data_request_mail_due.connect(receiver, dispatch_uid="test-mails")
    yield seen
    signals.data_request_mail_due.disconnect(dispatch_uid="test-mails")


@pytest.fixture
def customer():
    return factories.customer("dora.daten@example.com", name="Dora Daten")


def _reload(user):
    return get_user_model().objects.get(pk=user.pk)


def test_an_export_is_queued_once_at_a_time(
    customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        first = data_requests.request_export(customer)
    assert first.state == DataRequestState.PENDING
    assert first.kind == DataRequestKind.EXPORT
    assert len(callbacks) == 1  # the build task, after commit
    with pytest.raises(data_requests.ExportInProgress):
        data_requests.request_export(customer)
    assert DataRequest.objects.filter(user=customer).count() == 1
    assert data_requests.latest_export(customer) == first


def test_staff_accounts_are_not_served(agent):
    with pytest.raises(data_requests.NotACustomer):
        data_requests.request_export(agent)
    with pytest.raises(data_requests.NotACustomer):
        data_requests.request_erasure(agent)
    with pytest.raises(data_requests.NotACustomer):
        data_requests.schedule_erasure_by_agent(
            agent, agent=agent, reason=ErasureReason.DPO
        )
    assert not DataRequest.objects.exists()


def test_claim_takes_only_work_that_is_still_due(customer):
    request = data_requests.request_export(customer)
    claimed = data_requests.claim(request.pk, DataRequestKind.EXPORT)
    assert claimed.attempts == 1 and claimed.started_at is not None
    # The wrong kind, or a request no longer pending, is not taken.
    assert data_requests.claim(request.pk, DataRequestKind.ERASURE) is None
    DataRequest.objects.filter(pk=request.pk).update(state=DataRequestState.READY)
    assert data_requests.claim(request.pk, DataRequestKind.EXPORT) is None
    assert data_requests.claim(999999, DataRequestKind.EXPORT) is None


def test_a_stalled_export_is_found_again(customer):
    request = data_requests.request_export(customer)
    assert data_requests.stalled_exports() == []
    later = timezone.now() + data_requests.STALLED_AFTER + timedelta(seconds=1)
    assert data_requests.stalled_exports(later) == [request.pk]
    data_requests.touch([request.pk])
    DataRequest.objects.filter(pk=request.pk).update(state=DataRequestState.READY)
    assert data_requests.stalled_exports(later) == []


def test_an_erasure_waits_for_its_confirmation(customer, mails):
    request = data_requests.request_erasure(customer)
    assert request.state == DataRequestState.AWAITING
    assert mails == [("erasure_confirm", request.pk)]
    assert _reload(customer).is_active  # nothing changes before the link is used

    data_requests.confirm_erasure(request)
    request.refresh_from_db()
    assert request.state == DataRequestState.SCHEDULED
    grace = request.due_at - request.confirmed_at
    assert grace == timedelta(days=14)
    assert not _reload(customer).is_active
    assert mails[-1] == ("erasure_scheduled", request.pk)
    assert data_requests.scheduled_erasure(customer) == request
    # A second confirmation (a replayed link) changes nothing.
    with pytest.raises(data_requests.RequestRefused):
        data_requests.confirm_erasure(request)
    with pytest.raises(data_requests.ErasureAlreadyScheduled):
        data_requests.request_erasure(customer)


def test_a_new_erasure_request_replaces_an_unconfirmed_one(customer):
    first = data_requests.request_erasure(customer)
    second = data_requests.request_erasure(customer)
    first.refresh_from_db()
    assert first.state == DataRequestState.EXPIRED
    assert second.state == DataRequestState.AWAITING
    with pytest.raises(data_requests.RequestRefused):
        data_requests.confirm_erasure(first)


def test_cancelling_restores_the_account(customer, mails):
    request = data_requests.request_erasure(customer)
    data_requests.confirm_erasure(request)
    data_requests.cancel_erasure(request)
    request.refresh_from_db()
    assert request.state == DataRequestState.CANCELLED
    assert _reload(customer).is_active
    assert mails[-1] == ("erasure_cancelled", request.pk)
    with pytest.raises(data_requests.RequestRefused):
        data_requests.cancel_erasure(request)


def test_cancelling_leaves_an_unconfirmed_account_inactive(agent):
    unconfirmed = factories.customer("neu@example.com", confirmed=False)
    request = data_requests.schedule_erasure_by_agent(
        unconfirmed, agent=agent, reason=ErasureReason.ABUSE
    )
    data_requests.cancel_erasure(request)
    assert not _reload(unconfirmed).is_active


def test_an_agent_schedules_at_once_with_a_reason(customer, agent, mails):
    request = data_requests.schedule_erasure_by_agent(
        customer, agent=agent, reason=ErasureReason.CUSTOMER_ASKED
    )
    assert request.state == DataRequestState.SCHEDULED
    assert request.requested_by == RequestedBy.AGENT
    assert request.agent == agent
    assert not _reload(customer).is_active
    assert mails == [("erasure_scheduled", request.pk)]
    with translation.override("en"):
        assert str(request) == f"Account erasure #{request.pk}"


def test_due_erasures_skip_those_running_and_those_not_due(customer, agent):
    request = data_requests.schedule_erasure_by_agent(
        customer, agent=agent, reason=ErasureReason.DPO
    )
    assert data_requests.due_erasures() == []
    after_grace = request.due_at + timedelta(seconds=1)
    assert data_requests.due_erasures(after_grace) == [request.pk]
    # Claimed by a worker: not handed out again while it may still run …
    DataRequest.objects.filter(pk=request.pk).update(started_at=after_grace)
    assert data_requests.due_erasures(after_grace) == []
    # … but found again once that worker must be dead.
    much_later = after_grace + data_requests.STALLED_AFTER + timedelta(seconds=1)
    assert data_requests.due_erasures(much_later) == [request.pk]


def test_an_erasure_does_not_run_before_it_is_due(customer, agent):
    request = data_requests.schedule_erasure_by_agent(
        customer, agent=agent, reason=ErasureReason.DPO
    )
    assert privacy_tasks.run_erasure(request.pk) == "not due"
    assert get_user_model().objects.filter(pk=customer.pk).exists()


def test_unused_erasure_links_lapse(customer):
    request = data_requests.request_erasure(customer)
    assert data_requests.expire_unconfirmed_erasures() == 0
    later = timezone.now() + timedelta(days=2, seconds=1)
    assert data_requests.expire_unconfirmed_erasures(later) == 1
    request.refresh_from_db()
    assert request.state == DataRequestState.EXPIRED


def test_a_failure_records_the_exception_class_only(customer):
    request = data_requests.request_export(customer)
    data_requests.record_failure(request.pk, ValueError("dora.daten@example.com"))
    request.refresh_from_db()
    assert request.last_error == "ValueError"


def test_the_placeholder_of_anonymised_tickets_is_not_a_customer(agent):
    from vivadesk_wagtail.services import erasure

    keeper = erasure.placeholder()
    with pytest.raises(data_requests.NotACustomer):
        data_requests.schedule_erasure_by_agent(
            keeper, agent=agent, reason=ErasureReason.ABUSE
        )
    with pytest.raises(data_requests.NotACustomer):
        data_requests.request_export(keeper)


def test_an_erasure_whose_account_is_gone_is_finished_not_retried(customer, agent):
    """A worker that died after deleting the account but before marking the
    request done: the next run marks it done instead of retrying forever."""
    request = data_requests.schedule_erasure_by_agent(
        customer, agent=agent, reason=ErasureReason.DPO
    )
    get_user_model().objects.filter(pk=customer.pk).delete()
    DataRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    assert privacy_tasks.run_erasure(request.pk) == "skipped"
    request.refresh_from_db()
    assert request.state == DataRequestState.DONE
    assert request.completed_at is not None
    assert data_requests.due_erasures() == []
