"""The storage quota of a customer's attachments
(``VIVADESK["ATTACHMENT_QUOTA_PER_CUSTOMER"]``, ``None`` for none): a portal
form beyond it is refused (:func:`check`), a contact form or mail drops the
files that do not fit (:func:`keep_within`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .. import conf
from ..models import MessageKind, TicketAttachment


def limit() -> int | None:
    """The quota in bytes, or ``None`` when there is none."""
    return conf.get("ATTACHMENT_QUOTA_PER_CUSTOMER")


def used(user) -> int:
    """Bytes the files of ``user``'s own messages take (portal, contact form,
    mail); files staff send them do not count. The sum is read once per
    message, so two posts at the same moment may together go slightly beyond
    the quota: a quota against abuse, not an accounting."""
    if user is None or user.pk is None:
        return 0
    total = TicketAttachment.objects.filter(
        ticket__customer=user, message__kind=MessageKind.CUSTOMER
    ).aggregate(total=Sum("size"))["total"]
    return total or 0


def check(user, files: Iterable) -> None:
    """Raise a ``ValidationError`` (shown to the customer) when ``files``
    would take ``user`` beyond the quota."""
    quota = limit()
    incoming = sum(f.size for f in files)
    if quota is None or not incoming:
        return
    in_use = used(user)
    if in_use + incoming > quota:
        raise ValidationError(exceeded_message(in_use, quota), code="quota_exceeded")


def exceeded_message(in_use: int, quota: int) -> str:
    return _(
        "These files would exceed the storage space for your attachments "
        "(%(used)s of %(quota)s are in use). Please attach fewer or smaller "
        "files; if you need more space, please tell us in your message."
    ) % {"used": filesizeformat(in_use), "quota": filesizeformat(quota)}


def keep_within(
    user, files: Iterable, notes: Iterable[str] = ()
) -> tuple[list, list[str]]:
    """The files that still fit into ``user``'s quota (in their order) and
    ``notes`` with one more for each file dropped: for mail and the contact
    form, whose text is kept whatever its files (refusing a contact form
    would tell a visitor that the address has an account)."""
    files, notes = list(files), list(notes)
    quota = limit()
    if quota is None or user is None or not files:
        return files, notes
    room = quota - used(user)
    kept = []
    for upload in files:
        if upload.size <= room:
            kept.append(upload)
            room -= upload.size
        else:
            notes.append(
                f"dropped {upload.name}: over the customer's attachment quota "
                f"({quota} bytes)"
            )
    return kept, notes
