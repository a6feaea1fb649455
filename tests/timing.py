"""Moving the clock for tests (auto-close, expiry, grace periods)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from unittest import mock

from django.utils import timezone


@contextlib.contextmanager
def clock(offset: timedelta):
    """Everything that asks ``timezone.now()`` lives ``offset`` later."""
    real_now = timezone.now
    with mock.patch("django.utils.timezone.now", lambda: real_now() + offset):
        yield
