"""Header helpers of the reference site: navigation and language switcher."""

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils import translation
from wagtail.models import Page, Site

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
