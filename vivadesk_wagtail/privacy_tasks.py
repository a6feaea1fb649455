"""Background tasks of data protection (django-q2): building exports,
carrying out erasures, and the retention schedule. Each is idempotent: a
task run twice, or rerun after a worker died midway, finishes the job
once.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from .models import DataRequestKind
from .queueing import broker
from .services import data_requests

logger = logging.getLogger(__name__)

ERASE_TASK = "vivadesk_wagtail.privacy_tasks.run_erasure"


def build_export(pk: int) -> str:
    """Build the archive of export request ``pk`` and mail the customer."""
    from .privacy import export
    from .storage import private_storage

    request = data_requests.claim(pk, DataRequestKind.EXPORT)
    if request is None:
        return "skipped"
    name = export.archive_name()
    previous = data_requests.set_archive_name(request, name)
    if previous:
        private_storage().delete(previous)
    try:
        size, summary = export.write_archive(request.user, name)
    except Exception as exc:
        data_requests.record_failure(pk, exc)
        raise
    data_requests.finish_export(request, name, size, summary)
    return "ready"


def run_erasure(pk: int) -> str:
    """Erase the customer of erasure request ``pk`` (its grace period over)."""
    from .services import erasure

    request = data_requests.claim(pk, DataRequestKind.ERASURE)
    if request is None:
        return "skipped"
    if request.due_at and request.due_at > timezone.now():
        return "not due"
    try:
        summary = erasure.erase_customer(request.user)
    except Exception as exc:
        data_requests.record_failure(pk, exc)
        raise
    data_requests.finish_erasure(pk, summary)
    return "done"


def sweep_data_requests() -> dict:
    """Every few minutes: queue due erasures and exports no worker is
    building (a lost task, a killed worker), remove expired exports, and
    let unused erasure links lapse. Returns what it did."""
    from django_q.tasks import async_task

    exports = data_requests.stalled_exports()
    data_requests.touch(exports)
    for pk in exports:
        async_task(data_requests.BUILD_TASK, pk, broker=broker())
    erasures = data_requests.due_erasures()
    for pk in erasures:
        async_task(ERASE_TASK, pk, broker=broker())
    expired = 0
    for request in data_requests.expired_exports():
        data_requests.expire_export(request)
        expired += 1
    lapsed = data_requests.expire_unconfirmed_erasures()
    report = {
        "exports_requeued": len(exports),
        "erasures_queued": len(erasures),
        "exports_expired": expired,
        "erasure_links_lapsed": lapsed,
    }
    if any(report.values()):
        logger.info("Data-protection requests: %s", report)
    return report


def run_retention() -> dict:
    """The daily retention run (``services.retention``); returns its report."""
    from .services import retention

    return retention.run()
