"""Response headers for the help desk's own pages: ``Cache-Control`` on the
portal and account pages (:class:`PrivatePagesMiddleware`); the
Content-Security-Policy is the site's (django-csp, see the class).
"""

from __future__ import annotations

from django.utils.cache import patch_cache_control

#: URL namespace of the portal and account pages (``vivadesk_wagtail.urls``).
PRIVATE_NAMESPACE = "vivadesk_wagtail"


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on the portal and account pages.

    Add it to ``MIDDLEWARE`` of a site that mounts ``vivadesk_wagtail.urls``.
    Every response of the URL namespace ``vivadesk_wagtail`` (login,
    activation, password reset, "My requests", ticket pages, downloads) is
    marked: they show one customer's data or carry one-time tokens, and no
    shared cache, nor the browser's cache or history, may keep a copy.

    The Content-Security-Policy is not set here. The reference site uses
    django-csp (``csp.middleware.CSPMiddleware`` with
    ``CONTENT_SECURITY_POLICY`` in its settings): Mozilla's well-kept package,
    the model of the policy support Django 6.0 builds in, with URL-prefix
    exclusions (Wagtail's admin needs inline script), per-view decorators and
    report-only mode that a small middleware here would have to
    re-implement. It keeps a policy a view set itself, so attachment
    downloads keep their ``default-src 'none'; sandbox``. The app's templates
    need no inline script or style, so a host site may use any strict policy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and PRIVATE_NAMESPACE in match.namespaces:
            patch_cache_control(response, private=True, no_store=True)
        return response
