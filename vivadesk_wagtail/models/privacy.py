"""Data protection: customers' requests for their data or its erasure
(:class:`DataRequest`), and the privacy notices visitors agreed to
(:class:`PrivacyNoticeVersion`).

Rows are written only by ``vivadesk_wagtail.services.data_requests``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..storage import private_storage


def export_upload_to(instance, filename: str) -> str:
    from ..storage import generated_name

    return generated_name("exports") + ".zip"


class DataRequestKind(models.TextChoices):
    EXPORT = "export", _("Data export")
    ERASURE = "erasure", _("Account erasure")


class DataRequestState(models.TextChoices):
    #: Erasure: the confirmation link is in the customer's mail, not used yet.
    AWAITING = "awaiting", _("Awaiting confirmation")
    #: Erasure: confirmed; the account is deactivated until ``due_at``.
    SCHEDULED = "scheduled", _("Scheduled")
    #: Export: queued or being built.
    PENDING = "pending", _("Being prepared")
    #: Export: the archive can be downloaded until ``expires_at``.
    READY = "ready", _("Ready for download")
    #: Erasure carried out.
    DONE = "done", _("Done")
    #: Export removed after its period, or an erasure link never used.
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


#: States in which a request still has work ahead of it.
ACTIVE_STATES = (
    DataRequestState.AWAITING,
    DataRequestState.SCHEDULED,
    DataRequestState.PENDING,
)


class RequestedBy(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")


class ErasureReason(models.TextChoices):
    """Why an agent erases a customer: a fixed list, so the register holds
    no free text (which could name the person)."""

    CUSTOMER_ASKED = "customer_asked", _("The customer asked for it")
    DPO = "dpo", _("Instruction of the data-protection officer")
    LEGAL = "legal", _("Legal obligation")
    ABUSE = "abuse", _("Abusive or fake account")


class DataRequestQuerySet(models.QuerySet):
    def active(self) -> DataRequestQuerySet:
        return self.filter(state__in=ACTIVE_STATES)


class DataRequest(models.Model):
    """One request under GDPR Art. 15/20 (export) or Art. 17 (erasure), the
    register the data-protection officer reads. It holds no personal data:
    the customer is a link that becomes empty when the account is erased;
    counts and dates stay."""

    kind = models.CharField(_("kind"), max_length=16, choices=DataRequestKind)
    state = models.CharField(_("state"), max_length=16, choices=DataRequestState)
    #: The customer; ``None`` once the account is erased.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="helpdesk_data_requests",
    )
    requested_by = models.CharField(
        _("requested by"),
        max_length=16,
        choices=RequestedBy,
        default=RequestedBy.CUSTOMER,
    )
    #: The agent who asked for an erasure (their own account, not the
    #: customer's data).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(
        _("reason"), max_length=32, choices=ErasureReason, blank=True
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    #: Erasure: when the account is erased (after the grace period).
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    #: Export: when the archive is removed.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    #: How often the work was started (a crashed worker's run counts).
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    #: The exception class of the last failed attempt (never its message,
    #: which may quote personal data).
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    #: Export: the archive in the private storage.
    file = models.FileField(
        _("file"),
        upload_to=export_upload_to,
        storage=private_storage,
        max_length=255,
        blank=True,
    )
    size = models.PositiveBigIntegerField(_("size"), default=0)
    #: What the work did, as counts: ``{"tickets_anonymised": 3, …}``.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DataRequestQuerySet.as_manager()

    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("data-protection request")
        verbose_name_plural = _("data-protection requests")
        indexes = [models.Index(fields=["state", "kind"])]

    def __str__(self) -> str:
        # Shown in audit logs and the register: never the customer's name.
        return f"{self.get_kind_display()} #{self.pk}"


def notice_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PrivacyNoticeVersion(models.Model):
    """A privacy notice as a contact form showed it (the editor's rich text),
    stored once per distinct text; each ticket from a form points to the
    version its visitor saw."""

    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=12, blank=True)
    created_at = models.DateTimeField(_("first shown"), auto_now_add=True)

    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("privacy notice version")
        verbose_name_plural = _("privacy notice versions")

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.created_at:%Y-%m-%d})"
