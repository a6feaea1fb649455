"""Inbound mail as it arrived: stored first, processed later, never lost
(:class:`InboundMail`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..storage import private_storage
from .messages import TicketMessage
from .outbox import OutboundEmail
from .tickets import Ticket


def raw_mail_upload_to(instance, filename: str) -> str:
    from ..storage import generated_name

    return generated_name("raw-mail") + ".eml"


class InboundState(models.TextChoices):
    PENDING = "pending", _("Waiting to be processed")
    DONE = "done", _("Processed")
    HELD = "held", _("Held for review")
    IGNORED = "ignored", _("Ignored")
    DISCARDED = "discarded", _("Discarded")


class InboundOutcome(models.TextChoices):
    NEW_TICKET = "new_ticket", _("New ticket")
    REPLY = "reply", _("Reply")
    HELD = "held", _("Held")
    IGNORED_AUTO = "ignored_auto", _("Automatic mail")
    ERROR = "error", _("Error")


class InboundMailQuerySet(models.QuerySet):
    def held(self) -> InboundMailQuerySet:
        return self.filter(state=InboundState.HELD)

    def pending(self) -> InboundMailQuerySet:
        return self.filter(state=InboundState.PENDING)


class InboundMail(models.Model):
    """Every mail the help desk receives (a polled mailbox, django-mailbox's
    ``message_received`` signal, or ``manage.py vivadesk_ingest``) becomes one
    row holding its raw bytes in the private storage *before* anything else
    happens. The unique ``dedupe_key`` (the Message-ID and a fingerprint of
    the mail, ``mail.rawmail.dedupe_key``) makes a second delivery of the
    same mail a no-op, and keeps a different mail reusing the Message-ID.
    Processing then moves the row out of ``pending`` exactly once."""

    #: ``mid:<fingerprint with the Message-ID>``, ``fp:<fingerprint>`` (no
    #: Message-ID) or ``raw:<sha256 of the bytes>`` (neither Message-ID nor
    #: Date); see ``mail.rawmail.dedupe_key``. Rows whose raw mail was gone
    #: at migration 0010 keep the older ``id:<sha256 of the Message-ID>``.
    dedupe_key = models.CharField(max_length=80, unique=True, editable=False)
    #: The raw RFC 822 bytes, exactly as received (emptied after the retention).
    raw = models.FileField(
        _("raw message"),
        upload_to=raw_mail_upload_to,
        storage=private_storage,
        max_length=255,
        blank=True,
    )
    size = models.PositiveBigIntegerField(_("size"), default=0)
    #: Kept for checks, never looked up (the dedupe key is the unique one).
    sha256 = models.CharField(max_length=64)
    #: Where the mail came from: ``mailbox:<name>``, ``file:<path>``, …
    source = models.CharField(_("source"), max_length=255, blank=True)
    mailbox = models.ForeignKey(
        "django_mailbox.Mailbox",
        verbose_name=_("mailbox"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Header values are attacker-controlled and unbounded: TextFields, so a
    # 600-character From never becomes a DataError on PostgreSQL.
    message_id = models.TextField(_("Message-ID"), blank=True)
    from_header = models.TextField(_("From"), blank=True)
    #: The strict From address, lower-cased; empty if ambiguous or missing.
    sender = models.CharField(_("sender"), max_length=254, blank=True, db_index=True)
    subject = models.TextField(_("subject"), blank=True)
    #: Visible text as the pipeline extracted it (for the held-mail review).
    text = models.TextField(_("text"), blank=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=InboundState.choices,
        default=InboundState.PENDING,
        # Indexed with ``received_at`` (Meta.indexes), which serves both.
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=InboundOutcome.choices, blank=True
    )
    #: A short machine-readable reason (``unknown_sender``, ``auto_reply``, …).
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    #: Details for staff: error and traceback, dropped attachments, …
    detail = models.TextField(_("details"), blank=True)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_mails",
    )
    ticket_message = models.ForeignKey(
        TicketMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: The outgoing mail a bounce answers.
    outbound = models.ForeignKey(
        OutboundEmail,
        verbose_name=_("outgoing mail"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bounces",
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    #: When a ``pending`` mail whose processing met a transient database
    #: error is tried again (``inbound_tasks.sweep_inbound``); ``None``: not
    #: waiting for a retry.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = InboundMailQuerySet.as_manager()

    #: Help-desk rows are never "used" by pages or snippets: saving one skips
    #: Wagtail's reference index.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("incoming mail")
        verbose_name_plural = _("incoming mail")
        indexes = [models.Index(fields=["state", "received_at"])]

    def __str__(self) -> str:
        return f"{self.sender or self.from_header[:80]}: {self.subject[:80]}"

    def read_raw(self) -> bytes:
        if not self.raw:
            return b""
        with self.raw.open("rb") as handle:
            return handle.read()


class MailboxPoll(models.Model):
    """Lease and health of one django-mailbox ``Mailbox``: one poller at a time
    (an atomic conditional UPDATE, which works on SQLite and PostgreSQL), and a
    count of consecutive failures for monitoring."""

    mailbox = models.OneToOneField(
        "django_mailbox.Mailbox",
        on_delete=models.CASCADE,
        related_name="vivadesk_poll",
        primary_key=True,
    )
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=64, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("mailbox poll")

    def __str__(self) -> str:
        return f"poll of mailbox {self.mailbox_id}"
