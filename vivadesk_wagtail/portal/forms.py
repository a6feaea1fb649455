"""Forms of the customer portal."""

from __future__ import annotations

import hashlib
import re
import uuid

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..accounts.forms import ConfirmedPasswordMixin
from ..fields import AttachmentsField
from ..services import quota

#: What a client-generated idempotency key may look like.
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_key() -> str:
    return uuid.uuid4().hex


def scoped_key(user, raw: str) -> str:
    """The stored key: bound to the user, so one customer's key can never
    find another customer's message."""
    return hashlib.sha256(f"portal:{user.pk}:{raw}".encode()).hexdigest()


class UploadFormMixin(forms.Form):
    """A message text, attachments and the hidden idempotency key.

    Uploads are checked by ``fields.AttachmentsField`` while the form is
    cleaned, and against the customer's storage quota (``services.quota``): a
    refused file makes the whole form invalid before anything is written, so
    no half-saved rows or files are left behind.
    """

    body = forms.CharField(
        label=_("Your message"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=50_000,
        required=False,
    )
    attachments = AttachmentsField(
        label=_("Attachments"),
        help_text=_("Optional. PDF, images, office documents or plain text."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        #: Whose quota the attachments count against.
        self.customer = customer

    def clean_attachments(self) -> list:
        files = self.cleaned_data["attachments"]
        quota.check(self.customer, files)
        return files

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if not KEY_RE.match(key):
            raise ValidationError(_("The form has expired. Please send it again."))
        return key

    def clean_body(self) -> str:
        return self.cleaned_data["body"].strip()


class CommentForm(UploadFormMixin):
    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("body") and not cleaned.get("attachments"):
            if not self.errors:
                self.add_error("body", _("Please write a message or attach a file."))
        return cleaned


class NewRequestForm(UploadFormMixin):
    field_order = ["subject", "body", "attachments", "key", "follows"]

    subject = forms.CharField(label=_("Subject"), max_length=200)
    follows = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].required = True


class PasswordForm(ConfirmedPasswordMixin, PasswordChangeForm):
    """The password change on the account page."""


class AccountForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(
        label=pgettext_lazy("account form", "Preferred language"),
        help_text=_("Used for the pages of the help desk and for our e-mails."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = list(settings.LANGUAGES)

    def clean_full_name(self) -> str:
        return " ".join(self.cleaned_data["full_name"].split())
