"""Choosing the language of a mail or page from what we know about a person."""

from __future__ import annotations

from django.utils import translation

from . import conf


def first_offered(*candidates: str | None) -> str:
    """The first candidate the site offers (``LANGUAGES``, region variants
    folded), else ``VIVADESK["FALLBACK_LANGUAGE"]`` — never the site default
    by accident, and never nothing."""
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return translation.get_supported_language_variant(candidate)
        except LookupError:
            continue
    return conf.get("FALLBACK_LANGUAGE")


def language_name(code: str | None) -> str:
    """``code``'s name in the active language ("Deutsch", "German"); a code
    Django does not know is shown as it is, no code as "–"."""
    if not code:
        return "–"
    try:
        return str(translation.get_language_info(code)["name_translated"])
    except KeyError:
        return code


class LanguageDisplayMixin:
    """``get_language_display()`` for a model with a ``language`` code, as
    Django offers it for fields with choices (admin listings, inspect views
    and templates show the name, not the code)."""

    def get_language_display(self) -> str:
        return language_name(self.language)
