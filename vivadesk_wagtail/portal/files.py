"""Attachments as the ticket page shows them: the download link with its
thumbnail and preview (:class:`FileLinks`), and "All attachments", each file
once with where it came from (:func:`all_attachments`).
"""

from __future__ import annotations

import os

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..dates import local_datetime
from ..models import Channel, MessageKind, Ticket
from . import previews


class FileLinks:
    """Turns an attachment into what the page prints. The URLs are reversed
    once per page, not once per file (a thread can have hundreds)."""

    def __init__(self, ticket: Ticket):
        self.urls = {
            name: reverse(f"vivadesk_wagtail:{name}", args=[ticket.reference, 0])
            for name in ("attachment", "attachment_thumbnail", "attachment_preview")
        }

    def _url(self, name: str, pk: int) -> str:
        head, _zero, tail = self.urls[name].rpartition("/0/")
        return f"{head}/{pk}/{tail}"

    def item(self, attachment) -> dict:
        url = self._url("attachment", attachment.pk)
        extension = os.path.splitext(attachment.original_name)[1][1:5]
        item = {
            "pk": attachment.pk,
            "badge": extension.upper() or "?",
            "name": attachment.original_name,
            "size": filesizeformat(attachment.size),
            "url": url,
            "link": format_html(
                '<a href="{}" download>{}</a> <span class="vivadesk-size">({})</span>',
                url,
                attachment.original_name,
                filesizeformat(attachment.size),
            ),
        }
        if previews.is_image(attachment):
            item["thumbnail_url"] = self._url("attachment_thumbnail", attachment.pk)
        if previews.is_previewable(attachment):
            item["preview_url"] = self._url("attachment_preview", attachment.pk)
        return item


def source_text(message, user, when: str) -> str:
    """Which message a file came with: "Your message of …, by e-mail"."""
    if message.kind == MessageKind.STAFF:
        return _("Support's reply of %(date)s") % {"date": when}
    if message.kind == MessageKind.AUTO:
        return _("Automatic reply of %(date)s") % {"date": when}
    if message.author_id is not None and message.author_id != user.pk:
        return _("Customer's message of %(date)s") % {"date": when}
    if message.channel == Channel.EMAIL:
        return _("Your message of %(date)s, by e-mail") % {"date": when}
    if message.channel == Channel.WEB:
        return _("Your message of %(date)s, through the contact form") % {"date": when}
    return _("Your message of %(date)s") % {"date": when}


def all_attachments(messages, user, links: FileLinks, dom_ids: dict) -> list[dict]:
    """Every file of the thread once, oldest first: a file sent again (the
    same bytes, e.g. quoted in a reply mail or a signature logo) is listed
    with the message that brought it first. ``dom_ids`` maps a message's pk
    to its element id on the page."""
    seen: set = set()
    listed = []
    for message in messages:
        for attachment in getattr(message, "files", ()):
            key = attachment.sha256 or f"pk:{attachment.pk}"
            if key in seen:
                continue
            seen.add(key)
            iso, when = local_datetime(message.created_at)
            item = links.item(attachment)
            item.update(
                datetime=iso,
                source=source_text(message, user, when),
                anchor=dom_ids.get(message.pk, ""),
            )
            listed.append(item)
    return listed
