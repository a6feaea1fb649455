"""System events of a thread as readable text in the reader's language
(:func:`event_text`), and where a message came from when its sender is not
verified (:func:`origin_text`).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import Channel, TicketMessage, TicketStatus


def status_label(code) -> str:
    try:
        return str(TicketStatus(code).label)
    except ValueError:
        return str(code or "")


def _status_text(message: TicketMessage, reader) -> str:
    new = message.event.get("new")
    by_reader = reader is not None and message.author_id == reader.pk
    if new == TicketStatus.DONE and by_reader:
        return _("You marked this request as solved.")
    if new == TicketStatus.DONE:
        return _("We marked this request as done.")
    if new == TicketStatus.CLOSED:
        return _("This request was closed for good.")
    if new == TicketStatus.WAITING:
        return _("We are waiting for your reply.")
    if new == TicketStatus.OPEN and message.event.get("old") == TicketStatus.DONE:
        return _("The request was reopened.")
    return _("Status changed from “%(old)s” to “%(new)s”.") % {
        "old": status_label(message.event.get("old")),
        "new": status_label(new),
    }


def event_text(message: TicketMessage, reader=None) -> str:
    """The sentence the portal shows for one event message.

    Events are stored machine-readable (``{"event": "status", "old": …,
    "new": …}``) and rendered here at request time, so a German customer
    reads German even when the change was made by an English-speaking agent.
    """
    event = message.event if isinstance(message.event, dict) else {}
    if event.get("event") == "status":
        return _status_text(message, reader)
    if event.get("event") in ("merged_into", "merged_from"):
        return _merge_text(event)
    return _("The request was updated.")


def _merge_text(event: dict) -> str:
    """A merge (``services.merge``): the other ticket's reference is named
    only where both tickets are the reader's."""
    reference = event.get("reference")
    if event.get("event") == "merged_into":
        if event.get("other") or not reference:
            return _("This request was merged with another request on the same matter.")
        return _("This request was merged into %(ticket)s.") % {"ticket": reference}
    if event.get("other") or not reference:
        return _("Another request on the same matter was merged into this request.")
    return _("%(ticket)s was merged into this request.") % {"ticket": reference}


def origin_text(message: TicketMessage) -> str:
    """The customer's note on a message posted in their name without signing
    in (DESIGN.md decision 10), "" for any other message."""
    if message.sender_verified or message.channel != Channel.WEB:
        return ""
    return _("Sent through the contact form without signing in.")
