"""The site's error pages (``handler400``, ``handler403``, ``handler404``,
``handler500`` in ``urls.py``; ``CSRF_FAILURE_VIEW``) in the language of the
URL (``/de/``, ``/en/``; without a prefix the visitor's, else German).

They render in the site's layout (``base.html``), which reads the database.
Should that fail, a page falls back to the minimal layout of the 500 page
(``errors/minimal_base.html``: no database, no session, no context
processors); the 500 page uses it always. A handler never raises: its last
resort is a line of plain text.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpResponse
from django.template import loader
from django.utils import translation
from django.views.decorators.csrf import requires_csrf_token
from django_ratelimit.exceptions import Ratelimited

from vivadesk_wagtail.accounts.views import rate_limited

logger = logging.getLogger(__name__)

#: The layout of the 500 page and of every fallback.
MINIMAL_BASE = "errors/minimal_base.html"
#: The last resort, when no template can be rendered.
PLAIN = {
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    500: "500 Internal Server Error",
}


class ErrorPageRequest:
    """The request as an error page's layout sees it: its address is the
    home page of its language. The page does not repeat the address it was
    asked for (a 404 for another customer's ticket does not show its
    reference, in the language links or the login link's ``next``); the
    language links lead to the other language's home page. Everything else
    is the request's own."""

    def __init__(self, request, language: str):
        self._request = request
        self._home = f"/{language}/"

    def __getattr__(self, name):
        return getattr(self._request, name)

    def get_full_path(self, force_append_slash: bool = False) -> str:
        return self._home


def page_language(request) -> str:
    """The language of the URL's prefix, else the visitor's (language cookie,
    ``Accept-Language``), else the site's default."""
    try:
        return translation.get_language_from_path(
            request.path_info
        ) or translation.get_language_from_request(request)
    except Exception:  # noqa: BLE001 - an error page must not fail here
        return settings.LANGUAGE_CODE


def render_error(
    request,
    template_name: str,
    status: int,
    context: dict | None = None,
    *,
    site_layout: bool = True,
) -> HttpResponse:
    """``template_name`` in the page's language with ``status``: in the
    site's layout when ``site_layout`` and it renders, else in the minimal
    one, else as plain text."""
    language = page_language(request)
    context = context or {}
    with translation.override(language):
        html = None
        if site_layout:
            try:
                html = loader.render_to_string(
                    template_name, context, ErrorPageRequest(request, language)
                )
            except Exception:  # noqa: BLE001 - fall back to the minimal layout
                logger.exception("Error page %s failed in the site layout", status)
        if html is None:
            try:
                template = loader.get_template(template_name)
                html = template.render({**context, "error_base": MINIMAL_BASE})
            except Exception:  # noqa: BLE001 - fall back to plain text
                logger.exception("Error page %s failed in the minimal layout", status)
    if html is None:
        response = HttpResponse(
            PLAIN.get(status, str(status)),
            content_type="text/plain; charset=utf-8",
            status=status,
        )
    else:
        response = HttpResponse(html, status=status)
    response.headers["Content-Language"] = language
    return response


@requires_csrf_token
def bad_request(request, exception=None):
    """A request Django refused: too large or too many fields (the form's
    limits are explained), a host not served (minimal layout: the site's
    own pages cannot be looked up for it), or otherwise malformed."""
    too_large = isinstance(
        exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)
    )
    return render_error(
        request,
        "400.html",
        400,
        {"too_large": too_large},
        site_layout=not isinstance(exception, DisallowedHost),
    )


@requires_csrf_token
def permission_denied(request, exception=None):
    """403; a throttle raised as an exception (django-ratelimit's
    ``Ratelimited``, a ``PermissionDenied``) gets the 429 page instead."""
    if isinstance(exception, Ratelimited):
        return rate_limited(request, exception)
    return render_error(request, "403.html", 403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return render_error(request, "404.html", 404)


def server_error(request):
    """The 500 page: the minimal layout only, whatever failed."""
    return render_error(request, "500.html", 500, site_layout=False)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: a form sent from an expired session or without
    the security cookie asks to load the page again. The reason is not
    shown (Django's middleware logs it)."""
    return render_error(
        request, "403_csrf.html", 403, {"reload_url": request.get_full_path()}
    )
