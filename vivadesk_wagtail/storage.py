"""The private storage of attachments and raw mail.

Files live in the storage named by ``VIVADESK["STORAGE"]``: one no web
server serves (:class:`PrivateStorage`); only the permission-checked
download views deliver them.
"""

from __future__ import annotations

import uuid

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.utils import timezone

from . import conf


class PrivateStorage(Storage):
    """A stand-in that hands every call to the storage configured *now*.

    That is the storage named by ``VIVADESK["STORAGE"]`` in Django's
    ``STORAGES``: a ``FileSystemStorage`` outside ``MEDIA_ROOT`` with no
    ``base_url`` (or a private bucket), so no web server serves its files.

    Django evaluates ``FileField(storage=callable)`` once, when the model is
    imported; this proxy keeps the choice of backend for call time, so the
    alias (and ``override_settings(STORAGES=…)`` in tests) takes effect
    without a migration, and a host that lacks the alias gets the system
    check error instead of a crash in ``django.setup()``.
    """

    @staticmethod
    def backend() -> Storage:
        return storages[conf.get("STORAGE")]

    def save(self, name, content, max_length=None):
        # The backend's own ``save`` checks and frees the name; going
        # through ``Storage.save`` here would do that twice.
        return self.backend().save(name, content, max_length=max_length)

    def save_generated(self, name: str, content) -> str:
        """Save under a name from :func:`generated_name` (raw mail, files of
        a message) through the backend's ``save``; the name ends in a random
        UUID, and a backend that still finds it taken picks another."""
        if not hasattr(content, "chunks"):
            content = File(content, name)
        return self.backend().save(name, content)

    def _open(self, name, mode="rb"):
        return self.backend().open(name, mode)

    def _save(self, name, content):
        return self.backend().save(name, content)

    def get_available_name(self, name, max_length=None):
        return self.backend().get_available_name(name, max_length=max_length)

    def generate_filename(self, filename):
        return self.backend().generate_filename(filename)

    def delete(self, name):
        return self.backend().delete(name)

    def exists(self, name):
        return self.backend().exists(name)

    def listdir(self, path):
        return self.backend().listdir(path)

    def size(self, name):
        return self.backend().size(name)

    def path(self, name):
        return self.backend().path(name)

    def url(self, name):
        return self.backend().url(name)

    def get_modified_time(self, name):
        return self.backend().get_modified_time(name)


_private = PrivateStorage()


def private_storage() -> Storage:
    """Callable given to ``FileField(storage=…)`` (stable for migrations)."""
    return _private


def generated_name(prefix: str) -> str:
    """A storage path that never contains anything a sender chose."""
    return f"vivadesk/{prefix}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


def attachment_upload_to(instance, filename: str) -> str:
    return generated_name("attachments")


def stored_files(directory: str = "vivadesk"):
    """Every file name below ``directory`` in the private storage."""
    try:
        directories, files = _private.listdir(directory)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{directory}/{name}"
    for name in directories:
        yield from stored_files(f"{directory}/{name}")
