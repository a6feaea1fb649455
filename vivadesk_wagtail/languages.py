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
