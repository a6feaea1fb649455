"""The contact form: fixed core fields, the editor's extra fields, and the
spam traps (a honeypot field and a signed time stamp of when it was shown)."""

from __future__ import annotations

import secrets
import time

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.forms.forms import BaseForm, FormBuilder

from .. import conf
from ..fields import AttachmentsField

CORE_FIELDS = ("name", "email", "subject", "message", "attachments")
TRAP_FIELDS = ("website", "shown", "idempotency_key")
SHOWN_SALT = "vivadesk_wagtail.contact.shown"
#: Longest message accepted from the form (characters).
MESSAGE_MAX_LENGTH = 20_000


class ContactCoreForm(BaseForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    attachments = AttachmentsField(label=_("Attachments"))
    #: Honeypot: hidden from people by CSS and ``aria-hidden``; bots fill it.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "tabindex": "-1", "class": "vivadesk-hp"}
        ),
    )
    shown = forms.CharField(widget=forms.HiddenInput, required=False)
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=64
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shown"].initial = signing.dumps(time.time(), salt=SHOWN_SALT)
        self.fields["idempotency_key"].initial = secrets.token_urlsafe(24)
        self.fields["attachments"].help_text = _(
            "Up to %(count)d files (PDF, images, office documents, text)."
        ) % {"count": conf.get("ATTACHMENT_MAX_COUNT")}

    def clean_email(self):
        """Django's validator lets ``mıke@…`` through (``re.IGNORECASE`` folds
        ``ı`` onto ``I``); the help desk takes ASCII local parts only."""
        from ..services import customers  # models import this module

        try:
            return customers.normalize_email(self.cleaned_data["email"])
        except customers.InvalidAddressError as exc:
            raise forms.ValidationError(
                _("Please enter an e-mail address with the usual letters a–z."),
                code="invalid",
            ) from exc

    def looks_automated(self) -> bool:
        """Honeypot filled, time stamp missing/forged, or sent too fast."""
        if self.cleaned_data.get("website"):
            return True
        try:
            shown_at = float(
                signing.loads(self.cleaned_data.get("shown") or "", salt=SHOWN_SALT)
            )
        except (signing.BadSignature, TypeError, ValueError):
            return True
        return time.time() - shown_at < conf.get("MIN_FILL_SECONDS")

    def extra_data(self, fields) -> list[dict]:
        """The editor's fields as stored on the ticket: name, label, value."""
        data = []
        for field in fields:
            value = self.cleaned_data.get(field.clean_name)
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            data.append(
                {
                    "name": field.clean_name,
                    "label": field.label,
                    "value": "" if value is None else str(value),
                }
            )
        return data


class ContactFormBuilder(FormBuilder):
    """Wagtail's form builder with the core fields in front of the editor's."""

    def get_form_class(self):
        extra = {
            name: field
            for name, field in self.formfields.items()
            if name not in CORE_FIELDS + TRAP_FIELDS
        }
        return type("ContactForm", (ContactCoreForm,), extra)
