"""How the thread of a ticket reads on the ticket screen: system events as
sentences in the agent's language (:func:`describe_event`), and mail HTML in
a sandboxed iframe (:func:`mail_document`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from ..mail.content import link_inline_images
from ..models import Channel, InboundMail, MessageKind, TicketMessage
from .statuses import status_label

#: Prepended to every mail body shown in the sandboxed iframe: nothing may
#: load or run; inline styles and embedded (data:) images may show.
IFRAME_POLICY = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; img-src data:\">"
    '<meta name="referrer" content="no-referrer">'
    '<base target="_blank">'
)


#: Image types shown inline (SVG is not: it is a document, not a picture).
INLINE_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
#: Larger inline images are left to the attachment list.
INLINE_IMAGE_MAX_SIZE = 2 * 1024 * 1024


def describe_event(event: dict) -> str:
    """One readable sentence for a system event."""
    code = (event or {}).get("event")
    if code == "status":
        return _("Status changed from “%(old)s” to “%(new)s”") % {
            "old": status_label(event.get("old")),
            "new": status_label(event.get("new")),
        }
    if code == "merged_into":
        return _("Merged into %(ticket)s") % {"ticket": event.get("reference", "?")}
    if code == "merged_from":
        return _("%(ticket)s merged into this ticket") % {
            "ticket": event.get("reference", "?")
        }
    return _("System event: %(code)s") % {"code": code or "?"}


@dataclass
class ThreadItem:
    """A message with what the template needs to show it."""

    message: TicketMessage
    css_class: str
    label: str
    event_text: str = ""
    #: The document for the sandboxed iframe (plain text, escaped on output).
    html_document: str = ""
    attachments: list = field(default_factory=list)
    #: The received mail (raw RFC 822) this message came from, if kept.
    raw_mail_id: int | None = None
    #: Why the sender of this message is not verified ("" if it is).
    unverified: str = ""


KIND_CLASSES = {
    MessageKind.CUSTOMER: "vd-msg--customer",
    MessageKind.STAFF: "vd-msg--staff",
    MessageKind.NOTE: "vd-msg--note",
    MessageKind.EVENT: "vd-msg--event",
    MessageKind.AUTO: "vd-msg--auto",
}


def thread_items(ticket) -> list[ThreadItem]:
    """The whole thread, oldest first, in at most three queries."""
    messages = list(
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    raw_mails = raw_mail_ids(messages)
    return [_item(message, raw_mails.get(message.pk)) for message in messages]


def raw_mail_ids(messages) -> dict[int, int]:
    """``{message pk: InboundMail pk}`` for messages whose mail is kept."""
    ids = [m.pk for m in messages if m.channel == Channel.EMAIL]
    if not ids:
        return {}
    rows = (
        InboundMail.objects.filter(ticket_message_id__in=ids)
        .exclude(raw="")
        .values_list("ticket_message_id", "pk")
    )
    return dict(rows)


def _item(message: TicketMessage, raw_mail_id: int | None = None) -> ThreadItem:
    attachments = list(message.attachments.all())
    kind = MessageKind(message.kind) if message.kind in MessageKind.values else None
    return ThreadItem(
        message=message,
        css_class=KIND_CLASSES.get(kind, "vd-msg--event"),
        label=str(kind.label) if kind else message.kind,
        event_text=describe_event(message.event) if kind == MessageKind.EVENT else "",
        html_document=mail_document(message.html, attachments),
        attachments=attachments,
        raw_mail_id=raw_mail_id,
        unverified=unverified_text(message),
    )


def unverified_text(message: TicketMessage) -> str:
    """The agent's warning on a message whose sender is not verified."""
    if message.sender_verified:
        return ""
    if message.channel == Channel.WEB:
        return _(
            "Sender not verified: sent through the contact form while not signed "
            "in. Anybody may have typed this address."
        )
    if message.channel == Channel.EMAIL:
        return _(
            "Sender not verified: this mail was matched by the reference in "
            "its subject only, without our message headers, and our mail "
            "server did not authenticate its sender."
        )
    return _("Sender not verified.")


def mail_document(html: str, attachments) -> str:
    """The iframe document of a mail's stored HTML ("" without HTML).

    Mail HTML is never put into the admin page's DOM: it becomes the
    ``srcdoc`` of a sandboxed iframe, behind a Content-Security-Policy that
    blocks scripts and remote resources (tracking pixels), even though it was
    already sanitised when stored.

    Inline images (``cid:``) show from the mail's own attachments: the stored
    HTML keeps ``cid:``, and here each one becomes a ``data:`` URI of its
    attachment (:func:`inline_image_uri`). A link to the download view would
    not load: the sandboxed frame has no origin, so the browser sends it no
    session cookie, and the policy lets nothing but ``data:`` images in. Only
    raster images whose type the upload check confirmed by their bytes are
    inlined, up to :data:`INLINE_IMAGE_MAX_SIZE`; others lose their source
    and stay in the message's attachment list, with the authorised download
    link.
    """
    if not html:
        return ""
    if "cid:" in html:
        html = link_inline_images(html, attachments, inline_image_uri)
    return IFRAME_POLICY + html


def inline_image_uri(attachment) -> str:
    """A ``data:`` URI of an image attachment, or "" if it is not shown."""
    if (
        attachment.content_type not in INLINE_IMAGE_TYPES
        or attachment.size > INLINE_IMAGE_MAX_SIZE
    ):
        return ""
    try:
        with attachment.file.open("rb") as handle:
            data = handle.read(INLINE_IMAGE_MAX_SIZE + 1)
    except OSError:
        return ""
    encoded = base64.b64encode(data).decode("ascii")
    return f"data:{attachment.content_type};base64,{encoded}"
