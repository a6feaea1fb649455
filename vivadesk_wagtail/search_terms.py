"""What a typed search may contain before it reaches a query: plain words,
never syntax (:func:`clean_terms`). Imports nothing from the app, so every
layer may use it.
"""

from __future__ import annotations

import re
import unicodedata

#: Longest search text kept (characters).
MAX_LENGTH = 200
#: Most words a full-text search combines.
MAX_TERMS = 10
#: A word: letters, digits and the joiners of addresses and references
#: (``kunde@example.com``, ``VIVA-1042``, ``O'Brien``).
WORD_RE = re.compile(r"[\w@.+'-]+")
#: Joiners that mean nothing at the edge of a word (``-Toner``, ``"a.``).
EDGE = "@.+'-_"


def plain_text(value: str, max_length: int = MAX_LENGTH) -> str:
    """``value`` on one line: control characters become spaces, invisible
    format characters (soft hyphen, zero-width space, bidi marks) go, runs
    of white space become one space; at most ``max_length`` characters."""
    kept = []
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc" or category in ("Zl", "Zp"):
            kept.append(" ")
        elif category[0] != "C":
            kept.append(ch)
    return " ".join("".join(kept).split())[:max_length]


def clean_terms(value: str) -> str:
    """The words of ``value`` for a full-text search, separated by single
    spaces: quotes, brackets, operators' symbols and emoji are dropped, at
    most :data:`MAX_TERMS` words and :data:`MAX_LENGTH` characters. Operator
    words (``AND``, ``NOT``) stay plain words. ``""`` when nothing is left.

    Wagtail's database backends build their full-text queries from the
    visitor's text: a stray ``"`` breaks SQLite's FTS5 query
    (wagtail/wagtail#13227) while a few hundred words overflow the
    PostgreSQL backend's query builder."""
    text = unicodedata.normalize("NFKC", plain_text(value, max_length=4 * MAX_LENGTH))
    terms = []
    for word in WORD_RE.findall(text):
        word = word.strip(EDGE)
        if word:
            terms.append(word)
        if len(terms) == MAX_TERMS:
            break
    return " ".join(terms)[:MAX_LENGTH].strip(EDGE + " ")
