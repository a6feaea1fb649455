from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.i18n import set_language
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from vivadesk_wagtail.accounts.views import AdminLoginView
from vivadesk_wagtail.admin import django_admin_urls

urlpatterns = [
    # Django's admin, for operators (mailboxes, background tasks): its login
    # has the same throttle as the Wagtail and customer logins.
    path("django-admin/", django_admin_urls()),
    # Wagtail's login with the help desk's login throttling (before Wagtail's).
    path("admin/login/", AdminLoginView.as_view(), name="wagtailadmin_login"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/setlang/", set_language, name="set_language"),
]

# Development only: the "Demo mail" page (sent mail, replies into the demo
# inbox), at /<lang>/demo-mail/ when VIVADESK_DEMO_MAIL is on (dev.py).
demo_patterns = []

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
    if getattr(settings, "VIVADESK_DEMO_MAIL", False):
        demo_patterns.append(path("demo-mail/", include("home.demo_mail.urls")))

urlpatterns += i18n_patterns(
    *demo_patterns,
    path("helpdesk/", include("vivadesk_wagtail.urls")),
    path("", include(wagtail_urls)),
)

# The error pages in the site's layout and the URL's language; the 500 page
# needs no database (vivadesk_site/errors.py). Wagtail's admin shows its own
# 404 page (wagtail.admin.urls catches Http404 itself).
handler400 = "vivadesk_site.errors.bad_request"
handler403 = "vivadesk_site.errors.permission_denied"
handler404 = "vivadesk_site.errors.page_not_found"
handler500 = "vivadesk_site.errors.server_error"
