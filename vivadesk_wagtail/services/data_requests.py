"""The one writer of :class:`~vivadesk_wagtail.models.DataRequest`: a
customer's data export (GDPR Art. 15/20) and account erasure (Art. 17).

An **export** is ``pending`` while a background task builds its archive
(``privacy_tasks.build_export``), then ``ready`` for ``EXPORT_VALID_FOR``,
then ``expired`` (the archive removed). One export per customer at a time.

An **erasure** asked for by the customer is ``awaiting`` until the link in
the confirmation mail is used; confirmed (or asked for by an agent, with a
reason) it is ``scheduled``: the account is deactivated at once and erased
when ``due_at`` (``ERASURE_GRACE_PERIOD``) comes, unless the customer cancels
by the link in the mail. ``services.erasure`` does the erasing.

Work that a killed worker left half done is found again by
:func:`stalled_exports` and :func:`due_erasures` (the sweeper,
``privacy_tasks.sweep_data_requests``); both jobs are idempotent, so a rerun
finishes them. Mails go out through ``signals.data_request_mail_due``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import conf, signals
from ..models import (
    DataRequest,
    DataRequestKind,
    DataRequestState,
    RequestedBy,
)
from ..queueing import enqueue
from . import customers

#: A started export not finished after this long was left by a dead worker.
STALLED_AFTER = timedelta(minutes=15)

BUILD_TASK = "vivadesk_wagtail.privacy_tasks.build_export"


class RequestRefused(ValueError):
    """The request cannot be made now (see the subclasses)."""


class ExportInProgress(RequestRefused):
    """The customer's previous export is still being built."""


class ErasureAlreadyScheduled(RequestRefused):
    """The account's erasure is already confirmed and scheduled."""


class NotACustomer(RequestRefused):
    """Staff accounts are not erased or exported through the help desk."""


def _mail(request: DataRequest, event: str) -> None:
    signals.data_request_mail_due.send(DataRequest, request=request, event=event)


def _lock(user) -> None:
    """Serialise two clicks of the same customer (a row lock on the user)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _check_customer(user) -> None:
    if user is None or customers.is_staff_user(user) or customers.is_placeholder(user):
        raise NotACustomer(getattr(user, "pk", None))


def active_export(user) -> DataRequest | None:
    return (
        DataRequest.objects.filter(
            user=user, kind=DataRequestKind.EXPORT, state=DataRequestState.PENDING
        )
        .order_by("-pk")
        .first()
    )


def latest_export(user) -> DataRequest | None:
    """The customer's newest export that is still being built or can be
    downloaded (the account page shows it)."""
    return (
        DataRequest.objects.filter(
            user=user,
            kind=DataRequestKind.EXPORT,
            state__in=[DataRequestState.PENDING, DataRequestState.READY],
        )
        .order_by("-pk")
        .first()
    )


def scheduled_erasure(user) -> DataRequest | None:
    return (
        DataRequest.objects.filter(
            user=user,
            kind=DataRequestKind.ERASURE,
            state=DataRequestState.SCHEDULED,
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def request_export(user) -> DataRequest:
    """Queue a new export of everything about ``user``. A ready earlier
    export stays downloadable until it expires."""
    _check_customer(user)
    _lock(user)
    if active_export(user) is not None:
        raise ExportInProgress(user.pk)
    request = DataRequest.objects.create(
        kind=DataRequestKind.EXPORT,
        state=DataRequestState.PENDING,
        user=user,
        confirmed_at=timezone.now(),
    )
    enqueue(BUILD_TASK, request.pk)
    return request


@transaction.atomic
def claim(request_pk: int, kind: str) -> DataRequest | None:
    """Take a request for work: the row (locked) if it still needs it, with
    ``attempts`` and ``started_at`` stamped; ``None`` if it is done,
    cancelled or gone."""
    request = (
        DataRequest.objects.select_for_update().filter(pk=request_pk, kind=kind).first()
    )
    if request is None:
        return None
    wanted = (
        DataRequestState.PENDING
        if kind == DataRequestKind.EXPORT
        else DataRequestState.SCHEDULED
    )
    if request.state != wanted:
        return None
    if request.user_id is None:
        if request.kind == DataRequestKind.ERASURE:
            # A worker died after the account was gone but before the
            # request was marked done: there is nothing left to erase.
            request.state = DataRequestState.DONE
            request.completed_at = timezone.now()
            request.save(update_fields=["state", "completed_at", "updated_at"])
        return None
    request.attempts += 1
    request.started_at = timezone.now()
    request.save(update_fields=["attempts", "started_at", "updated_at"])
    return request


@transaction.atomic
def set_archive_name(request: DataRequest, name: str) -> str:
    """Record where the archive of this attempt is written *before* writing
    it, and return the previous attempt's archive name (to delete): a
    crashed attempt never leaves a file that no row names."""
    previous = request.file.name
    request.file.name = name
    request.save(update_fields=["file", "updated_at"])
    return previous


@transaction.atomic
def finish_export(request: DataRequest, name: str, size: int, summary: dict) -> None:
    """The archive ``name`` (in the private storage) is complete: the export
    is ready for ``EXPORT_VALID_FOR`` and the customer is mailed."""
    now = timezone.now()
    request.state = DataRequestState.READY
    request.file.name = name
    request.size = size
    request.summary = summary
    request.completed_at = now
    request.expires_at = now + conf.get("EXPORT_VALID_FOR")
    request.last_error = ""
    request.save()
    _mail(request, "export_ready")


def record_failure(request_pk: int, exc: BaseException) -> None:
    """Note a failed attempt (the exception's class only: its message may
    quote personal data). The sweeper tries again."""
    DataRequest.objects.filter(pk=request_pk).update(
        last_error=type(exc).__name__[:255], updated_at=timezone.now()
    )


def stalled_exports(now: datetime | None = None) -> list[int]:
    """Exports still ``pending`` that no worker is building: never started
    and queued longer than :data:`STALLED_AFTER` ago (a lost task), or
    started that long ago (a killed worker)."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    rows = DataRequest.objects.filter(
        kind=DataRequestKind.EXPORT,
        state=DataRequestState.PENDING,
        updated_at__lt=cutoff,
    )
    return list(rows.order_by("pk").values_list("pk", flat=True)[:100])


def touch(pks: list[int]) -> None:
    """Stamp requeued requests so the next sweep leaves them alone a while."""
    DataRequest.objects.filter(pk__in=pks).update(updated_at=timezone.now())


def expired_exports(now: datetime | None = None):
    return DataRequest.objects.filter(
        kind=DataRequestKind.EXPORT,
        state=DataRequestState.READY,
        expires_at__lte=now or timezone.now(),
    )


@transaction.atomic
def expire_export(request: DataRequest) -> None:
    """Remove a ready export's archive after its period."""
    name = request.file.name
    request.state = DataRequestState.EXPIRED
    request.file.name = ""
    request.save(update_fields=["state", "file", "updated_at"])
    if name:
        transaction.on_commit(lambda: request.file.storage.delete(name))


@transaction.atomic
def request_erasure(user) -> DataRequest:
    """The customer asks to delete the account: a confirmation mail with a
    link goes out; nothing changes before the link is used."""
    _check_customer(user)
    _lock(user)
    if scheduled_erasure(user) is not None:
        raise ErasureAlreadyScheduled(user.pk)
    DataRequest.objects.filter(
        user=user, kind=DataRequestKind.ERASURE, state=DataRequestState.AWAITING
    ).update(state=DataRequestState.EXPIRED, updated_at=timezone.now())
    request = DataRequest.objects.create(
        kind=DataRequestKind.ERASURE, state=DataRequestState.AWAITING, user=user
    )
    _mail(request, "erasure_confirm")
    return request


@transaction.atomic
def schedule_erasure_by_agent(user, *, agent, reason: str) -> DataRequest:
    """An agent erases a customer (with one of ``ErasureReason``): scheduled
    at once, the account deactivated; the customer is mailed and may cancel
    within the grace period. Audit-logged without personal data."""
    from wagtail.log_actions import log

    _check_customer(user)
    _lock(user)
    if scheduled_erasure(user) is not None:
        raise ErasureAlreadyScheduled(user.pk)
    request = DataRequest.objects.create(
        kind=DataRequestKind.ERASURE,
        state=DataRequestState.AWAITING,
        user=user,
        requested_by=RequestedBy.AGENT,
        agent=agent,
        reason=reason,
    )
    _schedule(request)
    log(
        instance=request,
        action="vivadesk.erasure.scheduled",
        user=agent,
        data={"request": request.pk, "reason": reason},
    )
    return request


def _schedule(request: DataRequest) -> None:
    now = timezone.now()
    request.state = DataRequestState.SCHEDULED
    request.confirmed_at = now
    request.due_at = now + conf.get("ERASURE_GRACE_PERIOD")
    request.save()
    user = request.user
    if user.is_active:
        request.summary = {"was_active": True}
        request.save(update_fields=["summary"])
        user.is_active = False
        user.save(update_fields=["is_active"])
    _mail(request, "erasure_scheduled")


@transaction.atomic
def confirm_erasure(request: DataRequest) -> None:
    """The customer used the link of the confirmation mail: deactivate the
    account now, erase it when the grace period ends."""
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != DataRequestState.AWAITING:
        raise RequestRefused(request.pk)
    _schedule(request)


@transaction.atomic
def cancel_erasure(request: DataRequest) -> None:
    """Cancelled by the link in the mail (before ``due_at``): the account is
    as it was before (active again if it was)."""
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.state not in (DataRequestState.AWAITING, DataRequestState.SCHEDULED):
        raise RequestRefused(request.pk)
    was_scheduled = request.state == DataRequestState.SCHEDULED
    request.state = DataRequestState.CANCELLED
    request.completed_at = timezone.now()
    request.save()
    if was_scheduled and request.summary.get("was_active") and request.user_id:
        get_user_model().objects.filter(pk=request.user_id).update(is_active=True)
    if was_scheduled:
        _mail(request, "erasure_cancelled")


def due_erasures(now: datetime | None = None) -> list[int]:
    """Scheduled erasures whose grace period has ended and that no worker
    is running: never started, or started longer than :data:`STALLED_AFTER`
    ago (a killed worker left it half done; it stays ``scheduled`` until
    finished)."""
    now = now or timezone.now()
    rows = DataRequest.objects.filter(
        kind=DataRequestKind.ERASURE,
        state=DataRequestState.SCHEDULED,
        due_at__lte=now,
    ).filter(Q(started_at__isnull=True) | Q(started_at__lt=now - STALLED_AFTER))
    return list(rows.order_by("due_at", "pk").values_list("pk", flat=True)[:100])


def expire_unconfirmed_erasures(now: datetime | None = None) -> int:
    """Erasures whose confirmation link was never used, past its age."""
    cutoff = (now or timezone.now()) - conf.get("ERASURE_CONFIRM_MAX_AGE")
    return DataRequest.objects.filter(
        kind=DataRequestKind.ERASURE,
        state=DataRequestState.AWAITING,
        created_at__lt=cutoff,
    ).update(state=DataRequestState.EXPIRED, updated_at=timezone.now())


def finish_erasure(request_pk: int, summary: dict) -> None:
    """Record a completed erasure (the user is gone: the link is empty)."""
    DataRequest.objects.filter(pk=request_pk).update(
        state=DataRequestState.DONE,
        completed_at=timezone.now(),
        summary=summary,
        last_error="",
        updated_at=timezone.now(),
    )
