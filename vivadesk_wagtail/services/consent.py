"""The privacy notice a contact form showed, kept with the ticket it opened.

The form carries the digest of the notice it showed (the editor's rich-text
source, :func:`~vivadesk_wagtail.models.privacy.notice_digest`); on the post
:func:`seen` finds the text that digest stands for, and :func:`record`,
called in the transaction that opens the ticket, stores it once per distinct
text. This module is the only writer of
:class:`~vivadesk_wagtail.models.PrivacyNoticeVersion` rows.
"""

from __future__ import annotations

import re

from ..models import PrivacyNoticeVersion
from ..models.privacy import notice_digest

#: How many of the page's latest revisions a digest is looked up in: the
#: notice an editor replaced while a visitor was filling in the form.
RECENT_REVISIONS = 50
#: What a posted digest looks like (anything else is no digest).
DIGEST = re.compile(r"[0-9a-f]{64}")


def current(page) -> PrivacyNoticeVersion | None:
    """The notice ``page`` (a contact page's language version) shows now, not
    stored yet; ``None`` when it shows none."""
    return _unsaved(page.privacy_notice, page)


def seen(page, digest: str | None) -> PrivacyNoticeVersion | None:
    """The notice the visitor saw who posted ``digest`` from ``page``.

    The page's current notice when the digest is its own; else a stored
    version of that digest; else the notice of one of the page's last
    :data:`RECENT_REVISIONS` revisions (an editor published a new one while
    the form was open). A digest none of them has (tampered with, or older)
    or no digest at all stands for the current notice. ``None`` for a page
    without a notice. What is found and not stored yet is returned unsaved,
    for :func:`record`: nothing is written here.
    """
    now = current(page)
    if now is None or not digest or not DIGEST.fullmatch(digest):
        return now
    if digest == now.sha256:
        return now
    stored = _stored(digest)
    if stored is not None:
        return stored
    return _from_revisions(page, digest) or now


def record(notice: PrivacyNoticeVersion | None) -> PrivacyNoticeVersion | None:
    """The stored row of ``notice`` (from :func:`seen`), written if its text
    is new: one row per distinct text, also when two posts store the same
    new text at once. Run it in the transaction that opens the ticket."""
    if notice is None or notice.pk is not None:
        return notice
    stored = _stored(notice.sha256)
    if stored is None:
        # A parallel post storing the same text leaves its row; read back.
        PrivacyNoticeVersion.objects.bulk_create([notice], ignore_conflicts=True)
        stored = _stored(notice.sha256)
    return stored


def _unsaved(text: str, page) -> PrivacyNoticeVersion | None:
    if not text:
        return None
    return PrivacyNoticeVersion(
        sha256=notice_digest(text), text=text, language=page.locale.language_code
    )


def _stored(digest: str) -> PrivacyNoticeVersion | None:
    return PrivacyNoticeVersion.objects.filter(sha256=digest).first()


def _from_revisions(page, digest: str) -> PrivacyNoticeVersion | None:
    """The notice of ``digest`` in the page's latest revisions (one query
    reading only their notices)."""
    texts = page.revisions.order_by("-created_at", "-pk").values_list(
        "content__privacy_notice", flat=True
    )[:RECENT_REVISIONS]
    for text in texts:
        if isinstance(text, str) and text and notice_digest(text) == digest:
            return _unsaved(text, page)
    return None
