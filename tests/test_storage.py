"""The private storage's ``save_generated`` (raw mail and attachments under
generated names) writes what ``save`` would, with the site's file mode, and a
taken name still never overwrites a file."""

from __future__ import annotations

import os
import stat

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage

from vivadesk_wagtail.storage import generated_name, private_storage

pytestmark = pytest.mark.django_db


def test_it_stores_the_bytes_under_the_generated_name():
    storage = private_storage()
    name = generated_name("raw-mail") + ".eml"
    assert storage.save_generated(name, ContentFile(b"From: a@b\r\n\r\nHallo")) == name
    with storage.open(name) as handle:
        assert handle.read() == b"From: a@b\r\n\r\nHallo"
    mode = stat.S_IMODE(os.stat(storage.path(name)).st_mode)
    assert mode == 0o600  # FILE_UPLOAD_PERMISSIONS of the site's storage
    storage.delete(name)


def test_a_taken_name_gets_another_and_the_first_file_stays():
    storage = private_storage()
    name = generated_name("raw-mail") + ".eml"
    storage.save_generated(name, ContentFile(b"first"))
    other = storage.save_generated(name, ContentFile(b"second"))
    assert other != name
    with storage.open(name) as handle:
        assert handle.read() == b"first"
    with storage.open(other) as handle:
        assert handle.read() == b"second"
    storage.delete(name)
    storage.delete(other)


def test_a_plain_file_object_is_accepted(tmp_path):
    source = tmp_path / "scan.pdf"
    source.write_bytes(b"%PDF-1.4 scan")
    storage = private_storage()
    with source.open("rb") as handle:
        name = storage.save_generated(generated_name("attachments"), handle)
    with storage.open(name) as handle:
        assert handle.read() == b"%PDF-1.4 scan"
    storage.delete(name)


def test_another_backend_gets_the_file_through_its_own_save(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "vivadesk_private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    storage = private_storage()
    assert isinstance(storage.backend(), InMemoryStorage)
    name = storage.save_generated(generated_name("raw-mail"), ContentFile(b"mail"))
    with storage.open(name) as handle:
        assert handle.read() == b"mail"
