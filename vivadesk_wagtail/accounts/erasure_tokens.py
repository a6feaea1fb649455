"""The tokens in the links of the erasure mails: signed (``django.core.signing``
with a salt of their own), naming one ``DataRequest`` and one purpose. A
confirm token cannot cancel, nor the reverse, and a token never acts on
another request; a confirm token expires after ``ERASURE_CONFIRM_MAX_AGE``.
Whether the request still allows the action is the views' question."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

from .. import conf
from ..models import DataRequest, DataRequestKind

SALT = "vivadesk_wagtail.accounts.erasure_tokens"
CONFIRM = "confirm"
CANCEL = "cancel"
#: Why a token does not lead to a request.
INVALID = "invalid"
EXPIRED = "expired"


def make(request: DataRequest, purpose: str) -> str:
    """A fresh token for ``purpose`` (:data:`CONFIRM` or :data:`CANCEL`)."""
    if purpose not in (CONFIRM, CANCEL):
        raise ValueError(purpose)
    payload = {"r": request.pk, "u": request.user_id, "p": purpose}
    return signing.dumps(payload, salt=SALT)


@dataclass(frozen=True)
class Reading:
    """The request a token names (``None`` with a ``problem``)."""

    request: DataRequest | None
    problem: str | None = None


def read(token: str, purpose: str) -> Reading:
    """The erasure request of a token made for ``purpose``; ``problem`` is
    :data:`INVALID` for a forged, damaged or other-purpose token, or one
    whose request or customer no longer matches, :data:`EXPIRED` for a
    confirm token older than ``ERASURE_CONFIRM_MAX_AGE``."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return Reading(None, INVALID)
    if not isinstance(data, dict) or data.get("p") != purpose:
        return Reading(None, INVALID)
    request = (
        DataRequest.objects.select_related("user")
        .filter(pk=data.get("r"), kind=DataRequestKind.ERASURE)
        .first()
    )
    if request is None or request.user_id is None or request.user_id != data.get("u"):
        return Reading(None, INVALID)
    if purpose == CONFIRM:
        max_age = conf.get("ERASURE_CONFIRM_MAX_AGE")
        try:
            signing.loads(token, salt=SALT, max_age=max_age)
        except signing.SignatureExpired:
            return Reading(request, EXPIRED)
    return Reading(request)
