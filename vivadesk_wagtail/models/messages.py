"""The thread of a ticket: customer messages, staff replies, notes, events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .tickets import Channel, Ticket


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer message")
    STAFF = "staff", _("Staff reply")
    NOTE = "note", _("Internal note")
    EVENT = "event", _("System event")
    AUTO = "auto", _("Automatic reply")


#: Kinds a customer may see in the portal and in mail (never internal notes).
PUBLIC_KINDS = (
    MessageKind.CUSTOMER,
    MessageKind.STAFF,
    MessageKind.EVENT,
    MessageKind.AUTO,
)


class TicketMessageQuerySet(models.QuerySet):
    def public(self) -> TicketMessageQuerySet:
        return self.filter(kind__in=PUBLIC_KINDS)


class TicketMessage(models.Model):
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: The visible text, stored verbatim (quoted mail history stripped).
    body = models.TextField(_("text"), blank=True)
    #: Sanitised HTML of a mail body (nh3), shown to staff; empty otherwise.
    html = models.TextField(_("HTML"), blank=True)
    #: System events: a machine-readable code and its arguments, rendered in
    #: the reader's language (``{"event": "status", "old": …, "new": …}``).
    event = models.JSONField(_("event"), default=dict, blank=True)
    #: ``Message-ID`` of the mail this message came in with, if any.
    message_id = models.CharField(
        _("Message-ID"), max_length=998, null=True, blank=True, unique=True
    )
    #: Client-generated key of a form submission; a double submit finds the
    #: message it already created.
    idempotency_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    #: ``False`` when nothing proves the author wrote it: a contact-form post
    #: sent without signing in, or a mail matched only by the reference in its
    #: subject that neither answers our Message-IDs nor passed authentication.
    sender_verified = models.BooleanField(_("sender verified"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    objects = TicketMessageQuerySet.as_manager()

    #: Help-desk rows are never "used" by pages or snippets: saving one skips
    #: Wagtail's reference index.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.ticket.reference} #{self.pk} ({self.kind})"

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_KINDS
