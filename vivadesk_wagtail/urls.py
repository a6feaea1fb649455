"""URLs of the help desk, included by the host site under its language prefix
(``path("helpdesk/", include("vivadesk_wagtail.urls"))`` inside
``i18n_patterns``)."""

from django.urls import include, path

app_name = "vivadesk_wagtail"

urlpatterns = [
    path("", include("vivadesk_wagtail.accounts.urls")),
    path("", include("vivadesk_wagtail.portal.urls")),
]
