"""Django's admin (where a host site mounts it): mailboxes for operators,
their passwords never shown (:class:`MailboxAdmin`), mail fetched only
through the help desk, and a throttled login (:func:`django_admin_urls`).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_mailbox import admin as mailbox_admin  # registers its admins first
from django_mailbox.models import Mailbox, Message, MessageAttachment

from .accounts.views import ThrottledLoginMixin
from .mail import polling


def masked_uri(uri: str) -> str:
    """``uri`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(uri or "")
    except ValueError:
        return "***"
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


class MailboxForm(forms.ModelForm):
    """django-mailbox's own ``MailboxAdmin`` puts each mailbox's ``uri`` into
    the change form, password included. Here the form takes a new URI only
    when one is typed (a password field that never echoes the stored value):
    leaving it empty keeps the current one."""

    uri = forms.CharField(
        label=_("URI"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Leave empty to keep the current URI. Example: "
            "imap+ssl://user%40example.com:password@mail.example.com?archive=Archive"
        ),
    )

    class Meta:
        model = Mailbox
        fields = ["name", "uri", "from_email", "active"]

    def clean_uri(self) -> str:
        value = self.cleaned_data.get("uri", "")
        if not value and self.instance.pk:
            return self.instance.uri
        return value


@admin.action(description=_("Fetch new mail (help desk)"))
def fetch_new_mail(modeladmin, request, queryset) -> None:
    """Poll the chosen mailboxes as the scheduled poll does."""
    for box in queryset:
        try:
            count = polling.poll_mailbox(box)
        except Exception as exc:  # noqa: BLE001 - reported to the operator
            modeladmin.message_user(
                request,
                _("Mailbox “%(name)s” could not be polled: %(error)s")
                % {"name": box.name, "error": type(exc).__name__},
                messages.ERROR,
            )
            continue
        modeladmin.message_user(
            request,
            ngettext(
                "Mailbox “%(name)s”: %(count)d new mail.",
                "Mailbox “%(name)s”: %(count)d new mails.",
                count,
            )
            % {"name": box.name, "count": count},
        )


class MailboxAdmin(mailbox_admin.MailboxAdmin):
    """Mailboxes for operators: the list shows the URI with the password
    replaced, the form is :class:`MailboxForm`. Set
    ``DJANGO_MAILBOX_ADMIN_ENABLED = False`` to leave mailboxes out of Django's
    admin altogether.

    Inbound mail is help-desk data, fetched and stored only by the help desk
    (``mail.polling``, private storage): django-mailbox's "Get new mail"
    action (its own pipeline, attachments in the public media storage) is
    replaced by :func:`fetch_new_mail`, and its ``Message`` and
    ``MessageAttachment`` admins are not offered.
    """

    form = MailboxForm
    actions = [fetch_new_mail]
    list_display = (
        "name",
        "uri_without_password",
        "from_email",
        "active",
        "last_polling",
    )
    readonly_fields = ["uri_without_password", "last_polling"]

    @admin.display(description=_("URI"))
    def uri_without_password(self, mailbox: Mailbox) -> str:
        return masked_uri(mailbox.uri)


for model in (Message, MessageAttachment, Mailbox):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
if getattr(settings, "DJANGO_MAILBOX_ADMIN_ENABLED", True):
    admin.site.register(Mailbox, MailboxAdmin)


class DjangoAdminLoginView(ThrottledLoginMixin, auth_views.LoginView):
    """``AdminSite.login`` as a class, with the help desk's login throttle."""

    admin_site = admin.site
    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"

    def dispatch(self, request, *args, **kwargs):
        site = self.admin_site
        request.current_app = site.name
        if request.method == "GET" and site.has_permission(request):
            return HttpResponseRedirect(self.get_default_redirect_url())
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index", current_app=self.admin_site.name)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {
            **self.admin_site.each_context(self.request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": self.request.get_full_path(),
            "username": self.request.user.get_username(),
            **context,
        }


def django_admin_urls(site: admin.AdminSite = admin.site):
    """``site.urls`` with the login throttled, for ``path("…/", …)``.

    Mount Django's admin with it (``path("django-admin/",
    django_admin_urls())``): its login then has the same throttle as the
    Wagtail admin's and the customers' logins
    (``accounts.views.ThrottledLoginMixin``).
    """
    view = DjangoAdminLoginView.as_view(
        admin_site=site,
        authentication_form=site.login_form or AdminAuthenticationForm,
        template_name=site.login_template or "admin/login.html",
    )
    login = path("login/", view, name="login")
    others = [p for p in site.get_urls() if getattr(p, "name", None) != "login"]
    return [login, *others], "admin", site.name
