"""Text modules ("Textbausteine"): canned replies agents insert into the
reply box. Editors and admins manage them as translatable snippets
(wagtail-localize); ``services.text_modules`` fills their placeholders."""

from __future__ import annotations

from string import Formatter

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.models import TranslatableMixin
from wagtail.search import index

#: The placeholders a text module may use, each with what it is filled with.
PLACEHOLDERS = {
    "customer_name": _("the customer's name (else a neutral form of address)"),
    "reference": _("the Ticket ID, e.g. VIVA-1042"),
    "agent_name": _("your name"),
    "portal_link": _("the link to the request in the customer portal"),
}


def placeholder_text(name: str, conversion: str | None, spec: str | None) -> str:
    """A placeholder as written in the text (``{name}``, ``{name!r:>5}``)."""
    conversion = f"!{conversion}" if conversion else ""
    spec = f":{spec}" if spec else ""
    return "{" + name + conversion + spec + "}"


def check_placeholders(body: str) -> None:
    """Refuse a text whose placeholders cannot be filled: a single brace
    (a brace meant as itself is written twice, ``{{`` or ``}}``), a
    placeholder with a format (``{reference:>9}``) or without a name
    (``{}``), or one not in :data:`PLACEHOLDERS`; the error names them."""
    try:
        fields = [
            placeholder_text(name, conversion, spec)
            for _text, name, spec, conversion in Formatter().parse(body or "")
            if name is not None
        ]
    except ValueError:
        raise ValidationError(
            _(
                "The text has a single “{” or “}”. Placeholders are written "
                "like {customer_name}; a brace meant as itself is written "
                "twice: {{ or }}."
            ),
            code="stray_brace",
        ) from None
    unknown = sorted({field for field in fields if field[1:-1] not in PLACEHOLDERS})
    if unknown:
        raise ValidationError(
            ngettext(
                "Unknown placeholder: %(unknown)s. Placeholders you can use: "
                "%(known)s.",
                "Unknown placeholders: %(unknown)s. Placeholders you can use: "
                "%(known)s.",
                len(unknown),
            )
            % {
                "unknown": ", ".join(unknown),
                "known": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
            },
            code="unknown_placeholder",
        )


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

    def clean(self):
        """The body's placeholders must be fillable (also when
        wagtail-localize saves a translation: it runs ``full_clean``)."""
        super().clean()
        try:
            check_placeholders(self.body)
        except ValidationError as error:
            raise ValidationError({"body": error.error_list}) from None

    def copy_for_translation(self, locale, exclude_fields=None):
        """A new language version starts unused: it counts its own uses."""
        copy = super().copy_for_translation(locale, exclude_fields=exclude_fields)
        copy.usage_count = 0
        copy.last_used_at = None
        return copy
