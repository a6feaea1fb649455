"""Text modules ("Textbausteine"): canned replies agents insert into the
reply box. Editors and admins manage them as translatable snippets
(wagtail-localize); ``services.text_modules`` fills their placeholders."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import TranslatableMixin
from wagtail.search import index


class TextModule(TranslatableMixin, index.Indexed, models.Model):
    title = models.CharField(_("title"), max_length=120)
    #: Plain text with placeholders such as ``{customer_name}``
    #: (``services.text_modules.PLACEHOLDERS``), checked when saved.
    body = models.TextField(_("text"))
    category = models.ForeignKey(
        "vivadesk_wagtail.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Offered first for tickets of this category."),
    )
    #: How often agents sent a reply that used it (this language version).
    usage_count = models.PositiveIntegerField(
        _("times used"), default=0, editable=False
    )
    last_used_at = models.DateTimeField(
        _("last used"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    search_fields = [
        index.SearchField("title", boost=2),
        index.AutocompleteField("title"),
        index.SearchField("body"),
        index.FilterField("locale_id"),
        index.FilterField("category_id"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["title"]
        verbose_name = _("text module")
        verbose_name_plural = _("text modules")

    def __str__(self) -> str:
        return self.title
