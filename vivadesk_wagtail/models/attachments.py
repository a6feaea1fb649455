"""Files attached to ticket messages, kept in the private storage."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..storage import attachment_upload_to, private_storage
from .messages import TicketMessage
from .tickets import Ticket


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    message = models.ForeignKey(
        TicketMessage,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    #: Stored under a generated name; the sender's name is only metadata.
    file = models.FileField(
        _("file"),
        upload_to=attachment_upload_to,
        storage=private_storage,
        max_length=255,
    )
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=128)
    sha256 = models.CharField(max_length=64)
    #: ``Content-ID`` of an inline mail image (``cid:`` reference), if any.
    content_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    #: Help-desk rows are never "used" by pages or snippets: saving one skips
    #: Wagtail's reference index.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name
