"""The ways onward of the error pages (``{% error_links as links %}``).

Rendered without a request (the minimal layout of the 500 page, or when the
database failed), the links need no database: the home page of the language
and the help desk's address only.
"""

from __future__ import annotations

import logging

from django import template
from django.db import DatabaseError
from django.urls import reverse
from django.utils import translation
from wagtail.models import Site

from vivadesk_wagtail import conf
from vivadesk_wagtail.models import ContactPage

register = template.Library()
logger = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def error_links(context) -> dict:
    """``home``, ``contact`` (the first live contact page of the language, or
    ``None``), ``my_requests`` (for a signed-in visitor) or ``login`` (for
    anyone else), and ``helpdesk_email``."""
    links = {
        "home": f"/{translation.get_language() or 'de'}/",
        "contact": None,
        "my_requests": None,
        "login": None,
        "helpdesk_email": conf.helpdesk_email(),
    }
    request = context.get("request")
    if request is None:
        return links
    try:
        links.update(_site_links(request))
    except DatabaseError:
        logger.warning("Error page without its database links", exc_info=True)
    return links


def _site_links(request) -> dict:
    links = {}
    site = Site.find_for_request(request)
    if site is not None:
        home = site.root_page.localized
        if home.url:
            links["home"] = home.url
        contact = (
            ContactPage.objects.live()
            .public()
            .descendant_of(home)
            .filter(locale=home.locale)
            .order_by("path")
            .first()
        )
        links["contact"] = contact.url if contact else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        links["my_requests"] = reverse("vivadesk_wagtail:my_requests")
    else:
        links["login"] = reverse("vivadesk_wagtail:login")
    return links
