"""Django's ``LocaleMiddleware`` for a site that speaks German first and
English to everyone else, and that serves some paths without a language
prefix (Wagtail's admin, Django's admin, documents) beside a catch-all page
route under ``/de/`` and ``/en/``."""

from django.conf import settings
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

#: The language of visitors whose browser asks only for languages the site
#: does not offer (a French browser reads the English site, not the German).
FALLBACK_LANGUAGE = "en"


def _offered(code: str) -> bool:
    try:
        translation.get_supported_language_variant(code)
    except LookupError:
        return False
    return True


def asks_only_for_other_languages(request) -> bool:
    """Whether the browser names languages, none of them offered here (with
    no language chosen before, by the address or the language cookie)."""
    if translation.get_language_from_path(request.path_info):
        return False
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie and _offered(cookie):
        return False
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    codes = [code for code, _quality in parse_accept_lang_header(header)]
    codes = [code for code in codes if code != "*"]
    return bool(codes) and not any(_offered(code) for code in codes)


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's, except that a browser asking only for languages the site
    does not offer gets English (Django would give it ``LANGUAGE_CODE``,
    German), and that a 404 answered by a view outside the language
    prefixes stays where it is. Django redirects every unprefixed 404 to the
    same path under the language's prefix, meant for addresses that matched
    nothing; there Wagtail's page route would answer ``/de/admin/…`` with
    the site's 404 page instead of the admin's own."""

    def process_request(self, request):
        super().process_request(request)
        if asks_only_for_other_languages(request):
            translation.activate(FALLBACK_LANGUAGE)
            request.LANGUAGE_CODE = FALLBACK_LANGUAGE

    def process_response(self, request, response):
        if (
            response.status_code == 404
            and getattr(request, "resolver_match", None) is not None
            and not translation.get_language_from_path(request.path_info)
        ):
            patch_vary_headers(response, ("Accept-Language",))
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        return super().process_response(request, response)
