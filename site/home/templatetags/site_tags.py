"""Header and footer helpers of the reference site: navigation, language
switcher, company details and the legal pages."""

from django import template
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError
from django.urls import translate_url
from django.utils import translation
from wagtail.models import Page, Site

from home.models import ImprintPage, PrivacyPage
from vivadesk_wagtail.models import CompanyDetails

register = template.Library()


def _home(request):
    """The site's home page in the current language, looked up once per
    request (the header asks for it twice)."""
    if request is None:
        return None
    language = translation.get_language()
    cached = getattr(request, "_site_home", None)
    if cached is None or cached[0] != language:
        site = Site.find_for_request(request)
        cached = (language, site.root_page.localized if site else None)
        request._site_home = cached
    return cached[1]


@register.simple_tag(takes_context=True)
def site_navigation(context):
    """The live, in-menu children of the home page in the current language."""
    home = _home(context.get("request"))
    return home.get_children().live().in_menu() if home else []


@register.simple_tag(takes_context=True)
def site_home(context):
    """The home page in the current language (``None`` without a site)."""
    return _home(context.get("request"))


@register.simple_tag(takes_context=True)
def home_url(context):
    home = _home(context.get("request"))
    return home.url if home else "/"


@register.simple_tag(takes_context=True)
def language_links(context):
    """One ``(code, name, url, active)`` per language: the translation of the
    current page where there is one, else the same URL in that language."""
    request = context.get("request")
    page = context.get("page")
    current = translation.get_language()
    translations = {}
    if isinstance(page, Page):
        for other in page.get_translations(inclusive=True).live():
            translations[other.locale.language_code] = other.url
    links = []
    for code, _name in settings.LANGUAGES:
        url = translations.get(code)
        if url is None and request is not None:
            url = translate_url(request.get_full_path(), code)
        name = translation.get_language_info(code)["name_local"]
        links.append((code, name, url, code == current))
    return links


@register.simple_tag(takes_context=True)
def company_details(context):
    """The site's ``CompanyDetails``, read once per request (Wagtail caches
    it on the request, the ``settings`` context processor shares it). Pages
    rendered without a request (the server error page) get the default
    site's, or unsaved defaults when the database cannot answer."""
    request = context.get("request")
    try:
        if request is not None:
            return CompanyDetails.for_request(request)
        return CompanyDetails.current()
    except (CompanyDetails.DoesNotExist, DatabaseError):
        return CompanyDetails()


@register.simple_tag(takes_context=True)
def legal_pages(context):
    """The live imprint and privacy pages under the home page of the current
    language, as ``{"imprint": page, "privacy": page}`` (a key is missing when
    there is no such page); one query per request."""
    request = context.get("request")
    language = translation.get_language()
    cached = getattr(request, "_site_legal", None)
    if cached is not None and cached[0] == language:
        return cached[1]
    home = _home(request)
    pages = {}
    if home is not None:
        kinds = {
            ContentType.objects.get_for_model(model).pk: key
            for key, model in (("imprint", ImprintPage), ("privacy", PrivacyPage))
        }
        children = (
            Page.objects.child_of(home)
            .live()
            .filter(content_type_id__in=kinds)
            .order_by("path")
        )
        for page in children:
            pages.setdefault(kinds[page.content_type_id], page)
    if request is not None:
        request._site_legal = (language, pages)
    return pages
