"""Which addresses this browser got a confirmation mail for, and when: a
signed cookie only that browser has (:func:`remember`, :func:`sent_at`).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from ..ratelimits import address_key

COOKIE = "vivadesk_sent"
SALT = "vivadesk_wagtail.contact.sent"
#: How long a record is kept (seconds), and how many at most.
MAX_AGE = 24 * 3600
MAX_RECORDS = 10


def _digest(address: str) -> str:
    return salted_hmac(SALT, address_key(address)).hexdigest()[:20]


def _records(request) -> list[list]:
    now = time.time()
    try:
        value = request.get_signed_cookie(COOKIE, salt=SALT, max_age=MAX_AGE)
        records = [
            [str(digest), float(at)]
            for digest, at in json.loads(value)
            if isinstance(at, int | float) and now - at < MAX_AGE
        ]
    except (KeyError, signing.BadSignature, ValueError, TypeError):
        return []
    return records[-MAX_RECORDS:]


def sent_at(request, address: str) -> datetime | None:
    """When this browser last got a confirmation queued for ``address``."""
    digest = _digest(address)
    times = [at for found, at in _records(request) if found == digest]
    return datetime.fromtimestamp(max(times), tz=UTC) if times else None


def remember(request, response, address: str) -> None:
    """Note on ``response`` that a confirmation for ``address`` was queued.

    The signed cookie lists, for the last day, a digest of each address whose
    confirmation the contact form queued in this browser, with the time. When
    the per-address cap holds a confirmation back, the thank-you page may
    then say "we sent you one at …, look in your spam folder" without telling
    anybody else that the address was used: only the browser that made that
    post knows it. The cookie holds no address, and a forged or foreign one
    is ignored (:func:`sent_at`).
    """
    digest = _digest(address)
    records = [r for r in _records(request) if r[0] != digest]
    records = [*records, [digest, time.time()]][-MAX_RECORDS:]
    response.set_signed_cookie(
        COOKIE,
        json.dumps(records, separators=(",", ":")),
        salt=SALT,
        max_age=MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
