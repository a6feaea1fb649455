"""The data export after a failed or killed attempt, and its expiry:
``privacy_tasks.build_export`` rebuilds, the sweeper finds what no worker
finished, and an archive leaves the storage after ``EXPORT_VALID_FOR``."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from tests import factories
from tests.privacy_support import ADDRESS, NAME, build, seed, unqueued_export
from vivadesk_wagtail import privacy_tasks
from vivadesk_wagtail.models import (
    DataRequest,
    DataRequestState,
)
from vivadesk_wagtail.privacy import export
from vivadesk_wagtail.services import data_requests
from vivadesk_wagtail.storage import private_storage, stored_files

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


def test_failure_midway_leaves_nothing_and_the_sweeper_finishes(monkeypatch, agent):
    data = seed(agent)
    request = unqueued_export(data["erika"], monkeypatch)
    calls = []
    copy = export._copy

    def failing_copy(source, archive, path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return copy(source, archive, path)

    monkeypatch.setattr(export, "_copy", failing_copy)
    with pytest.raises(OSError):
        privacy_tasks.build_export(request.pk)
    request.refresh_from_db()
    assert request.state == DataRequestState.PENDING
    assert request.last_error == "OSError"
    assert request.attempts == 1
    assert [n for n in stored_files() if "/exports/" in n] == []

    monkeypatch.setattr(export, "_copy", copy)
    DataRequest.objects.filter(pk=request.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    report = privacy_tasks.sweep_data_requests()
    assert report["exports_requeued"] == 1
    request.refresh_from_db()
    assert request.state == DataRequestState.READY
    assert request.attempts == 2
    assert request.last_error == ""
    assert [n for n in stored_files() if "/exports/" in n] == [request.file.name]
    assert request.summary["attachments"] == 4


def test_a_dead_workers_partial_file_is_replaced(monkeypatch):
    """A worker killed while saving leaves a partial file under the name the
    row already holds; the rerun removes it and writes one archive."""
    customer = factories.customer(ADDRESS, name=NAME)
    factories.ticket(customer)
    request = unqueued_export(customer, monkeypatch)
    request = data_requests.claim(request.pk, "export")
    partial = export.archive_name()
    data_requests.set_archive_name(request, partial)
    private_storage().save(partial, ContentFile(b"PK\x03\x04 half"))
    DataRequest.objects.filter(pk=request.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    privacy_tasks.sweep_data_requests()
    request.refresh_from_db()
    assert request.state == DataRequestState.READY
    assert request.file.name != partial
    assert [n for n in stored_files() if "/exports/" in n] == [request.file.name]
    with private_storage().open(request.file.name) as handle:
        assert zipfile.ZipFile(handle).testzip() is None


def test_archive_saved_under_another_name_is_refused(monkeypatch):
    customer = factories.customer(ADDRESS, name=NAME)
    name = export.archive_name()
    private_storage().save(name, ContentFile(b"taken"))
    with pytest.raises(FileExistsError):
        export.write_archive(customer, name)
    assert [n for n in stored_files() if "/exports/" in n] == [name]


def test_export_expires_after_its_period():
    customer = factories.customer(ADDRESS, name=NAME)
    factories.ticket(customer)
    build(customer)
    request = DataRequest.objects.get(user=customer)
    assert privacy_tasks.sweep_data_requests()["exports_expired"] == 0
    assert private_storage().exists(request.file.name)
    name = request.file.name
    assert request.expires_at == request.completed_at + timedelta(days=7)
    DataRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert privacy_tasks.sweep_data_requests()["exports_expired"] == 1
    request.refresh_from_db()
    assert request.state == DataRequestState.EXPIRED
    assert request.file.name == ""
    assert not private_storage().exists(name)
    assert list(stored_files("vivadesk/exports")) == []


def test_expires_when_the_period_is_over(settings):
    settings.VIVADESK = {**settings.VIVADESK, "EXPORT_VALID_FOR": timedelta(0)}
    customer = factories.customer(ADDRESS, name=NAME)
    build(customer)
    request = DataRequest.objects.get(user=customer)
    assert request.expires_at == request.completed_at
    privacy_tasks.sweep_data_requests()
    request.refresh_from_db()
    assert request.state == DataRequestState.EXPIRED
    assert list(stored_files("vivadesk/exports")) == []


# -- a worker killed mid-build (PostgreSQL: the child shares the database) ---

REPO = Path(__file__).resolve().parents[1]
#: The child: build the export, stall after the first file (the test kills it
#: there with SIGKILL).
CHILD = """
import os, sys, time
import django
django.setup()
from vivadesk_wagtail import privacy_tasks
from vivadesk_wagtail.privacy import export
copy = export._copy
def stalling_copy(source, archive, path):
    result = copy(source, archive, path)
    open(os.environ["EXPORT_FLAG"], "w").close()
    time.sleep(120)
    return result
export._copy = stalling_copy
privacy_tasks.build_export(int(sys.argv[1]))
"""


def _child_env(settings, flag: Path) -> dict:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = (
        f"postgres://{db.get('USER') or 'postgres'}{password}@"
        f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )
    dropped = ("REDIS_URL", "EMAIL_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.fault_settings",
        DATABASE_URL=url,
        VIVADESK_FAULT_SECRET_KEY="export-kill-test",
        VIVADESK_FAULT_PRIVATE=settings.STORAGES["vivadesk_private"]["OPTIONS"][
            "location"
        ],
        EXPORT_FLAG=str(flag),
        PYTHONPATH=os.pathsep.join([str(REPO / "site"), str(REPO)]),
    )
    return env


@pytest.mark.postgres
def test_worker_killed_mid_build_is_finished_by_the_sweeper(
    agent, monkeypatch, settings, tmp_path
):
    data = seed(agent)
    request = unqueued_export(data["erika"], monkeypatch)
    flag = tmp_path / "copying"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(request.pk)],
        env=_child_env(settings, flag),
        cwd=REPO,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert child.poll() is None, "the child ended before it was killed"
            assert time.monotonic() < deadline, "the child never started copying"
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    request.refresh_from_db()
    assert request.state == DataRequestState.PENDING
    assert request.attempts == 1
    killed_name = request.file.name
    assert killed_name.startswith("vivadesk/exports/")
    assert not private_storage().exists(killed_name)

    DataRequest.objects.filter(pk=request.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    assert privacy_tasks.sweep_data_requests()["exports_requeued"] == 1
    request.refresh_from_db()
    assert request.state == DataRequestState.READY
    assert request.attempts == 2
    assert request.file.name != killed_name
    assert [n for n in stored_files() if "/exports/" in n] == [request.file.name]
    with private_storage().open(request.file.name) as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    payload = json.loads(archive.read("data.json"))
    assert [t["reference"] for t in payload["tickets"]] == [
        t.reference for t in data["tickets"]
    ]
    assert archive.testzip() is None
