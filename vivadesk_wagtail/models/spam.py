"""Contact-form posts caught by the spam traps, kept for agents to review
(:class:`CaughtSubmission`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..languages import LanguageDisplayMixin
from .tickets import Category


class CaughtReason(models.TextChoices):
    HONEYPOT = "honeypot", _("Hidden field filled in")
    TOO_FAST = "too_fast", _("Sent faster than a person types")
    FORGED = "forged", _("Form time stamp missing, forged or another visitor's")


class CaughtSubmission(LanguageDisplayMixin, models.Model):
    """A caught post opened no ticket, made no account and mailed nobody. Its
    fields are kept as the form cleaned them, its files in the private
    storage (``files``), for ``SPAM_RETENTION``; ``services.spam`` turns one
    into a ticket or deletes it."""

    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=16, choices=CaughtReason)
    #: What the hidden field held (a bot's link, mostly), cut to 300.
    trap_value = models.CharField(_("hidden field"), max_length=300, blank=True)
    name = models.CharField(_("name"), max_length=300)
    email = models.EmailField(_("e-mail address"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255)
    message = models.TextField(_("message"))
    #: The contact page, its language and category, for the ticket it may
    #: become.
    contact_page = models.ForeignKey(
        "vivadesk_wagtail.ContactPage",
        verbose_name=_("contact page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=16, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: The editor's extra fields as the ticket stores them (name, label, value).
    form_data = models.JSONField(_("form data"), default=list, blank=True)
    #: The form's idempotency key: a ticket made of the same form is not
    #: made twice.
    idempotency_key = models.CharField(max_length=64, blank=True)
    #: ``{"path", "name", "size", "content_type"}`` per file; ``path`` is the
    #: private storage's name, empty for a file not kept (over
    #: ``SPAM_FILES_MAX_BYTES``).
    files = models.JSONField(_("files"), default=list, blank=True)
    #: Bytes of the files kept (the sum ``SPAM_FILES_MAX_BYTES`` limits).
    kept_bytes = models.PositiveBigIntegerField(default=0)

    #: Help-desk rows are never "used" by pages or snippets.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_at"])]
        verbose_name = _("caught post")
        verbose_name_plural = _("caught posts")

    def __str__(self) -> str:
        return f"{self.subject} <{self.email}>"

    @property
    def kept_files(self) -> list[dict]:
        return [item for item in self.files if item.get("path")]
