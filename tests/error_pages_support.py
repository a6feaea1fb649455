"""A URL configuration for the error-page tests: the site's own, its error
handlers, and views that fail on purpose under ``/<lang>/test-errors/``.
Use it with ``settings.ROOT_URLCONF = "tests.error_pages_support"``."""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import connection
from django.urls import path
from django_ratelimit.exceptions import Ratelimited

from vivadesk_site import urls as site_urls

ROOT_URLCONF = __name__


def boom(request):
    raise RuntimeError("a view failed")


def database_boom(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    raise AssertionError("the database answered")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("a malformed request")


def throttled(request):
    raise Ratelimited


urlpatterns = [
    *i18n_patterns(
        path("test-errors/boom/", boom),
        path("test-errors/database/", database_boom),
        path("test-errors/forbidden/", forbidden),
        path("test-errors/suspicious/", suspicious),
        path("test-errors/throttled/", throttled),
    ),
    *site_urls.urlpatterns,
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


class DatabaseDown:
    """``connection.execute_wrapper``: every query fails as when the database
    server is gone, and is counted."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        from django.db import OperationalError

        self.queries.append(sql)
        raise OperationalError("the database is unavailable")
