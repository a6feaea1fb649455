"""What the admin's report views share for their spreadsheet export: a CSV
is streamed after the view has returned, so its headings and labels are
written in the language the reader had when asking for it."""

from __future__ import annotations

from django.utils import translation


def in_language(rows, language):
    """Yield ``rows`` with ``language`` active (for a streamed response)."""
    with translation.override(language):
        yield from rows


class ReaderLanguageCsvMixin:
    """For a Wagtail ``ReportView``: the CSV in the reader's language."""

    def stream_csv(self, queryset):
        return in_language(super().stream_csv(queryset), translation.get_language())
