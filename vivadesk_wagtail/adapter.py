"""The host site's seam: one class, named in ``VIVADESK["ADAPTER"]``, that
decides the language of a mail, who gets staff notices, how a mail is rendered
and the site's own intake rules. A site subclasses
:class:`DefaultHelpdeskAdapter` and overrides what it needs; the help desk
asks :func:`get_adapter` each time, so ``override_settings`` works.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.module_loading import import_string

from . import conf
from .languages import first_offered


@dataclass(frozen=True)
class Recipient:
    """One address a mail goes to, and the language it is written in."""

    email: str
    language: str


@dataclass
class Rendered:
    """A mail's three parts, as rendered from its template triplet."""

    subject: str
    text: str
    html: str


class DefaultHelpdeskAdapter:
    """What a host site may change by subclassing. Methods are called from
    the services and the mail worker, outside any request unless ``request``
    is set; they must not write ticket state."""

    def __init__(self, request=None):
        self.request = request

    # Languages ------------------------------------------------------------

    def customer_language(self, profile, ticket=None) -> str:
        """The language of a mail to a customer (``profile`` may be ``None``).
        About a ticket: the ticket's language, else the customer's preference;
        an account mail: the preference, else the active language. Falls back
        to ``VIVADESK["FALLBACK_LANGUAGE"]``."""
        preferred = profile.language if profile is not None else ""
        if ticket is not None:
            return first_offered(ticket.language, preferred)
        return first_offered(
            preferred, translation.get_language(), settings.LANGUAGE_CODE
        )

    def staff_language(self, user) -> str:
        """The language of a staff notice: the user's Wagtail admin language,
        else ``LANGUAGE_CODE`` (also for the staff address, ``user`` None)."""
        wagtail_profile = getattr(user, "wagtail_userprofile", None)
        preferred = getattr(wagtail_profile, "preferred_language", "")
        return first_offered(preferred or settings.LANGUAGE_CODE)

    # Recipients -------------------------------------------------------------

    def staff_recipients(self, ticket, event: str) -> list[Recipient]:
        """Who is told of ``event`` (``staff_new_ticket``, ``customer_replied``)
        on ``ticket``: its assignee, else ``VIVADESK["STAFF_NOTIFY_EMAIL"]``.
        Addresses that are empty or the ticket's customer's are left out
        afterwards, whatever this returns."""
        if ticket.assignee_id:
            user = ticket.assignee
            return [Recipient(user.email, self.staff_language(user))]
        return [Recipient(conf.staff_notify_email(), self.staff_language(None))]

    # Rendering ------------------------------------------------------------

    def render_mail(self, template_prefix: str, context: dict) -> Rendered:
        """Render ``<prefix>_subject.txt``, ``<prefix>.txt`` and
        ``<prefix>.html``; called inside ``translation.override`` of the
        recipient's language. The subject is put on one line and given the
        ticket's reference afterwards, whatever this returns."""
        return Rendered(
            subject=render_plain(f"{template_prefix}_subject.txt", context),
            text=render_plain(f"{template_prefix}.txt", context),
            html=render_to_string(f"{template_prefix}.html", context),
        )

    # Intake -----------------------------------------------------------------

    def mail_ticket_refusal(self, profile, parsed) -> str:
        """Why a mail of a known, confirmed customer (``profile``) may not
        open a ticket: a reason the mail is held with ("" opens it). Called
        after the help desk's own rules (staff, unconfirmed and deactivated
        senders are held before) and before the flood cap."""
        return ""

    def acknowledge_new_ticket(self, customer, channel: str, acknowledge: bool):
        """Whether the customer gets the ``ticket_created`` mail. ``acknowledge``
        is the help desk's own answer (false when rate caps hold it back)."""
        return acknowledge

    def new_ticket_category(self, customer, channel: str, category):
        """The category of a new ticket; ``category`` is the contact page's
        (``None`` for mail and the portal)."""
        return category


def render_plain(name: str, context: dict) -> str:
    """Render a text template without HTML escaping."""
    template = get_template(name).template
    return template.render(Context(context, autoescape=False))


def get_adapter(request=None) -> DefaultHelpdeskAdapter:
    """An instance of the class ``VIVADESK["ADAPTER"]`` names."""
    return adapter_class(conf.get("ADAPTER"))(request)


@lru_cache(maxsize=8)
def adapter_class(path: str) -> type[DefaultHelpdeskAdapter]:
    """The class at the dotted ``path`` (imported once per value)."""
    return import_string(path)
