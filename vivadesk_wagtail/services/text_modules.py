"""Text modules ("Textbausteine") for a ticket: which ones an agent is
offered (:func:`for_ticket`), the text with its placeholders filled
(:func:`render`), and how often they were sent (:func:`count_use`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime
from string import Formatter

from django.conf import settings
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import pgettext
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale

from ..languages import first_offered
from ..mail.notifications import customer_language
from ..models import CustomerProfile, TextModule, Ticket
from ..models.text_modules import PLACEHOLDERS, check_placeholders, placeholder_text
from ..naming import display_name
from ..site_links import portal_ticket_url

__all__ = [
    "PLACEHOLDERS",
    "check_placeholders",
    "count_sent",
    "count_use",
    "for_ticket",
    "offered",
    "render",
    "ticket_language",
]

logger = logging.getLogger(__name__)

#: The language every ticket falls back to before the default locale.
FALLBACK_LANGUAGE = "en"
#: A placeholder as a broken text may still hold it (see :func:`fill`).
_PLAIN_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _profile(ticket: Ticket) -> CustomerProfile | None:
    return CustomerProfile.objects.filter(user_id=ticket.customer_id).first()


def ticket_language(ticket: Ticket, profile: CustomerProfile | None = None) -> str:
    """The language the customer is answered in (that of the reply mail)."""
    return customer_language(ticket, profile or _profile(ticket))


def _locale_order(language: str) -> list[int]:
    """Locale ids to look in, best first: the ticket's language, English,
    then the default locale (one query)."""
    codes = [
        language,
        FALLBACK_LANGUAGE,
        get_supported_content_language_variant(settings.LANGUAGE_CODE),
    ]
    by_code = dict(Locale.objects.values_list("language_code", "pk"))
    return list(dict.fromkeys(by_code[code] for code in codes if code in by_code))


def for_ticket(ticket: Ticket, language: str | None = None) -> list[TextModule]:
    """The modules offered on ``ticket``'s screen: one language version of
    each, in ``language`` (by default the ticket's, :func:`ticket_language`)
    if there is one, else English, else the default locale's; those of the
    ticket's category first, then by title."""
    order = _locale_order(language or ticket_language(ticket))
    rank = {locale_id: position for position, locale_id in enumerate(order)}
    best: dict = {}
    rows = TextModule.objects.filter(locale_id__in=order).select_related(
        "locale", "category"
    )
    for module in rows:
        chosen = best.get(module.translation_key)
        if chosen is None or rank[module.locale_id] < rank[chosen.locale_id]:
            best[module.translation_key] = module
    return sorted(
        best.values(),
        key=lambda module: (
            not (ticket.category_id and module.category_id == ticket.category_id),
            module.title.casefold(),
            module.pk,
        ),
    )


def offered(ticket: Ticket, pk: int) -> TextModule | None:
    """The module ``pk`` if it is offered on ``ticket`` (:func:`for_ticket`)."""
    return next((module for module in for_ticket(ticket) if module.pk == pk), None)


def customer_name(ticket: Ticket, profile: CustomerProfile | None) -> str:
    """The name ``{customer_name}`` is filled with: the name of a confirmed
    account, which its owner entered (an unconfirmed account's name is what
    somebody typed into a form and is never mailed back out, DESIGN.md
    decision 10); else a neutral form of address in the active language."""
    if profile is not None and profile.is_confirmed:
        name = " ".join(ticket.customer.get_full_name().split())
        if name:
            return name
    return pgettext("text module placeholder without a name", "dear customer")


def values(module: TextModule, ticket: Ticket, agent) -> dict[str, str]:
    """What each placeholder stands for in ``module`` on ``ticket``."""
    profile = _profile(ticket)
    language = ticket_language(ticket, profile)
    module_language = first_offered(module.locale.language_code, language)
    with translation.override(module_language):
        name = customer_name(ticket, profile)
    with translation.override(language):
        link = portal_ticket_url(ticket)
    return {
        "customer_name": name,
        "reference": ticket.reference,
        "agent_name": display_name(agent),
        "portal_link": link,
    }


def fill(body: str, filled: dict[str, str]) -> str:
    """``body`` with its placeholders replaced by ``filled``; never raises.

    A text that passes :func:`check_placeholders` is read as the check reads
    it (a doubled brace stands for one). A text that does not (saved past
    the form's check) keeps anything it cannot fill as it is written."""
    try:
        parts = list(Formatter().parse(body))
    except ValueError:
        return _PLAIN_PLACEHOLDER.sub(
            lambda match: filled.get(match[1], match[0]), body
        )
    out = []
    for literal, name, spec, conversion in parts:
        out.append(literal)
        if name is None:
            continue
        if name in filled and not spec and not conversion:
            out.append(filled[name])
        else:
            out.append(placeholder_text(name, conversion, spec))
    return "".join(out)


def render(module: TextModule, ticket: Ticket, agent) -> str:
    """``module``'s text for a reply on ``ticket`` by ``agent``, filled in."""
    return fill(module.body or "", values(module, ticket, agent))


def count_use(module_ids: Iterable[int]) -> int:
    """Count one use of each module (a sent reply used them): one UPDATE,
    safe against concurrent replies; ids of deleted modules are skipped.
    Returns how many modules were counted."""
    ids = {int(pk) for pk in module_ids}
    if not ids:
        return 0
    return TextModule.objects.filter(pk__in=ids).update(
        usage_count=F("usage_count") + 1, last_used_at=timezone.now()
    )


def count_sent(module_ids: Iterable[int], message, since: datetime) -> int:
    """Count the modules a reply used, once per reply: ``message`` is what
    ``tickets.add_message`` returned to a call that started at ``since``.
    A message written before then is an earlier submit of the same form (its
    idempotency key found it), which counted them already; a second submit
    that races the first into the database fails on the key and never gets
    here."""
    if message.created_at < since:
        return 0
    return count_use(module_ids)
