"""How many mails are held and posts caught, in words (each language's
plural forms), for the listings' counts and the dashboard."""

from __future__ import annotations

from django.utils.functional import cached_property
from django.utils.translation import ngettext, npgettext
from wagtail.admin.paginator import WagtailPaginator


def held_mail_count(count: int) -> str:
    """ "3 held mails", under the held-mail listing."""
    return ngettext("%(count)s held mail", "%(count)s held mails", count) % {
        "count": count
    }


def caught_post_count(count: int) -> str:
    """ "3 caught posts", under the spam listing."""
    return ngettext("%(count)s caught post", "%(count)s caught posts", count) % {
        "count": count
    }


def held_mail_tile(count: int) -> str:
    """The dashboard tile's label next to its number."""
    return npgettext("dashboard tile", "Held mail", "Held mails", count)


def caught_post_tile(count: int) -> str:
    """The dashboard tile's label next to its number."""
    return npgettext("dashboard tile", "Caught post", "Caught posts", count)


def counted_paginator(count_label) -> type[WagtailPaginator]:
    """Wagtail's paginator whose total ("1 incoming mail" from the model's
    verbose names) reads ``count_label(count)`` instead."""

    class CountedPaginator(WagtailPaginator):
        @cached_property
        def items_count_label(self) -> str:
            return count_label(self.count)

    return CountedPaginator
