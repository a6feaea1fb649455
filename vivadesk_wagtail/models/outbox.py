"""The outbox: every outgoing mail is a row first, sent by a background task."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..languages import LanguageDisplayMixin
from .tickets import Ticket


class OutboundState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundEmail(LanguageDisplayMixin, models.Model):
    """One mail to one recipient, written in the transaction of the change that
    causes it. The mail is rendered and sent later by ``tasks.send_outbound``."""

    #: Template name of the mail, e.g. ``ticket_created`` (see ``mail/``).
    event = models.CharField(_("event"), max_length=64)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbound_emails",
    )
    #: Ids the template context is built from (``{"message": 12}``), re-read
    #: when the mail is rendered so it always shows the stored state.
    context = models.JSONField(default=dict, blank=True)
    recipient = models.EmailField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=12)
    #: Our own Message-ID, fixed before the first attempt so that a resend
    #: after a crash carries the same id.
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=OutboundState.choices,
        default=OutboundState.PENDING,
        # Indexed with ``next_attempt_at`` (Meta.indexes), which serves both.
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    #: Help-desk rows are never "used" by pages or snippets: saving one skips
    #: Wagtail's reference index.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient} ({self.state})"
