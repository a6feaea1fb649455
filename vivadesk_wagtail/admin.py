"""Django's admin (where a host site mounts it): mailbox passwords stay hidden.

django-mailbox's own ``MailboxAdmin`` lists each mailbox's ``uri`` and puts it
into the change form, password included. Here the list shows the URI with
the password replaced, and the form takes a new URI only when one is typed
(a password field that never echoes the stored value): leaving it empty
keeps the current one. Set ``DJANGO_MAILBOX_ADMIN_ENABLED = False`` to leave
mailboxes out of Django's admin altogether.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_mailbox import admin as mailbox_admin  # registers its admins first
from django_mailbox.models import Mailbox


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


class MailboxAdmin(mailbox_admin.MailboxAdmin):
    form = MailboxForm
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


if getattr(settings, "DJANGO_MAILBOX_ADMIN_ENABLED", True):
    if admin.site.is_registered(Mailbox):
        admin.site.unregister(Mailbox)
    admin.site.register(Mailbox, MailboxAdmin)
