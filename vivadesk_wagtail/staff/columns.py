"""Listing columns that render their cells without a template (Wagtail's
``Column.render_cell_html`` overridden); the table around them is Wagtail's.
"""

from __future__ import annotations

from django.contrib.admin.utils import quote
from django.utils.html import format_html
from django.utils.translation import gettext
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column

from ..dates import local_datetime


class FastValueMixin:
    """``get_value`` without Wagtail's generic lookup (``multigetattr`` tries
    dict keys and list indexes at every step): a callable accessor is called,
    a dotted path is followed attribute by attribute, methods on the way are
    called, and a missing object (``None``) gives ``None``."""

    def get_value(self, instance):
        if callable(self.accessor):
            return self.accessor(instance)
        value = instance
        for part in self.accessor.split("."):
            value = getattr(value, part, None)
            if callable(value):
                value = value()
            if value is None:
                return None
        return value


class FastColumn(FastValueMixin, Column):
    """A text cell: the value, escaped; ``–`` when empty."""

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value is None or not str(value).strip():
            value = "–"
        return format_html("<td>{}</td>", value)


class FastDateColumn(FastValueMixin, Column):
    """A date-time cell in the current time zone and language."""

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value is None:
            return format_html("<td>–</td>")
        iso, text = local_datetime(value)
        return format_html('<td><time datetime="{}">{}</time></td>', iso, text)


class FastTitleColumn(FastValueMixin, Column):
    """The reference, linking to the ticket screen; it also names the row for
    the bulk-action checkbox (``snippet_<pk>_title``)."""

    def __init__(self, *args, get_url, **kwargs):
        super().__init__(*args, **kwargs)
        self.get_url = get_url

    def render_cell_html(self, instance, parent_context):
        return format_html(
            '<td class="title"><div class="title-wrapper"><a href="{}">'
            '<span id="snippet_{}_title">{}</span></a></div></td>',
            self.get_url(instance),
            quote(instance.pk),
            self.get_value(instance),
        )


class FastCheckboxColumn(BulkActionsCheckboxColumn):
    """Wagtail's bulk-action checkbox, same attributes, no template."""

    def render_cell_html(self, instance, parent_context):
        return format_html(
            '<td class="bulk-action-checkbox-cell"><input type="checkbox" '
            'data-object-id="{}" data-bulk-action-checkbox '
            'class="bulk-action-checkbox" aria-label="{}" aria-describedby="{}">'
            "</td>",
            quote(instance.pk),
            gettext("Select"),
            self.get_aria_describedby(instance),
        )
