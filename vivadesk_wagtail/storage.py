"""The private storage of attachments and raw mail.

Files live in the storage named by ``VIVADESK["STORAGE"]`` in Django's
``STORAGES``: a ``FileSystemStorage`` outside ``MEDIA_ROOT`` with no
``base_url`` (or a private bucket), so no web server serves them directly.
They are only ever delivered by the permission-checked download views.
"""

from __future__ import annotations

import uuid

from django.core.files.storage import Storage, storages
from django.utils import timezone

from . import conf


def private_storage() -> Storage:
    """Callable given to ``FileField(storage=…)``: resolved at run time, so the
    alias can differ per deployment without a migration."""
    return storages[conf.get("STORAGE")]


def generated_name(prefix: str) -> str:
    """A storage path that never contains anything a sender chose."""
    return f"vivadesk/{prefix}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


def attachment_upload_to(instance, filename: str) -> str:
    return generated_name("attachments")
