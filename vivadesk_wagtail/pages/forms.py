"""The contact form: fixed core fields, the editor's extra fields (choices
from their ``options``, dates typed the page's way or picked), and the spam
traps (a honeypot field, :data:`HONEYPOT`, and a signed time stamp of when it
was shown, :func:`make_stamp`).
"""

from __future__ import annotations

import secrets
import time

from django import forms
from django.core import signing
from django.middleware.csrf import get_token
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.forms.forms import BaseForm, FormBuilder

from .. import conf
from ..fields import AttachmentsField
from ..models.pages import CHOICE_TYPES
from ..services import customers

CORE_FIELDS = ("name", "email", "subject", "message", "attachments")
#: The honeypot's name: nothing autofill looks for (not "website", "url",
#: "name", "email", "phone", "company", "address", …). The honeypot is for
#: bots only: the page renders it apart from the other fields, in a container
#: with ``hidden`` and ``aria-hidden`` (so neither people, nor assistive
#: technology, nor Tab reach it, with or without the stylesheet),
#: ``tabindex="-1"`` and ``autocomplete="off"``.
HONEYPOT = "vd_reserve"
#: The hidden field with the digest of the privacy notice the form was shown
#: with (``services.consent``).
NOTICE = "vd_notice"
#: The form's own fields beside the core ones: the spam traps, the
#: idempotency key and the notice's digest (names editors cannot take).
TRAP_FIELDS = (HONEYPOT, "shown", "idempotency_key", NOTICE)
SHOWN_SALT = "vivadesk_wagtail.contact.shown"
BINDING_SALT = "vivadesk_wagtail.contact.shown.csrf"
#: What a posted stamp says (``stamp_state``, kept as ``ContactCoreForm.stamp``).
FRESH, TOO_FAST, EXPIRED, FORGED = "fresh", "too_fast", "expired", "forged"
#: Longest message accepted from the form (characters).
MESSAGE_MAX_LENGTH = 20_000
#: How a date may be typed besides ISO (``2026-11-20``, what a date picker
#: sends), by the page's language: day first, never the US month first.
TYPED_DATE_FORMATS = {
    "de": ("%d.%m.%Y", "%d.%m.%y"),
    "en": ("%d/%m/%Y", "%d/%m/%y"),
}
#: The typed dates of a language not in :data:`TYPED_DATE_FORMATS`.
OTHER_TYPED_DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y")
#: The first, empty entry of a drop-down list.
PLEASE_CHOOSE = _("Please choose …")
NOTHING_CHOSEN = "—"


def csrf_binding(request) -> str:
    """A digest of the visitor's CSRF secret (never the secret itself, which
    the page must not show); ``""`` without a request."""
    if request is None:
        return ""
    if "CSRF_COOKIE" not in request.META:
        get_token(request)  # a first visit: the page sets the cookie
    return salted_hmac(BINDING_SALT, request.META["CSRF_COOKIE"]).hexdigest()[:24]


def make_stamp(request, shown_at: float | None = None) -> str:
    """The signed stamp of when the form was shown, bound to the visitor's
    CSRF cookie (a digest of its secret, the same cookie the POST must carry
    anyway): a stamp copied into another browser, or from before a login that
    rotated the cookie, is forged. A stamp older than ``FORM_MAX_AGE`` is no
    bot's: the form comes back with what was typed and a request to send it
    again. Every form shown, also one shown again, carries a fresh stamp
    (:class:`StampField`)."""
    shown_at = time.time() if shown_at is None else shown_at
    return signing.dumps([shown_at, csrf_binding(request)], salt=SHOWN_SALT)


def stamp_state(value: str, request) -> str:
    """``FRESH``, ``TOO_FAST``, ``EXPIRED`` or ``FORGED`` (bad signature,
    another visitor's CSRF cookie, or no stamp). A stamp of the form before
    it was bound (a bare time) is ``EXPIRED``: it is ours, and sending it
    again makes it a bound one."""
    try:
        payload = signing.loads(value or "", salt=SHOWN_SALT)
    except signing.BadSignature:
        return FORGED
    if isinstance(payload, int | float) and not isinstance(payload, bool):
        return EXPIRED
    try:
        shown_at, binding = float(payload[0]), str(payload[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return FORGED
    if not constant_time_compare(binding, csrf_binding(request)):
        return FORGED
    age = time.time() - shown_at
    if age > conf.get("FORM_MAX_AGE").total_seconds():
        return EXPIRED
    if age < conf.get("MIN_FILL_SECONDS"):
        return TOO_FAST
    return FRESH


class StampField(forms.CharField):
    """The hidden time stamp: a form shown again carries its new stamp
    (``initial``), not the one it was posted with."""

    widget = forms.HiddenInput

    def bound_data(self, data, initial):
        return initial


class ShownNowField(StampField):
    """The hidden digest of the privacy notice: a form shown again carries
    the digest of the notice it is shown with now (``initial``), while the
    post reads the one the visitor saw."""


class ContactCoreForm(BaseForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        error_messages={"invalid": _("Enter a valid e-mail address.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    attachments = AttachmentsField(label=_("Attachments"))
    #: The honeypot (:data:`HONEYPOT`): see :meth:`visible_fields`.
    vd_reserve = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    shown = StampField(required=False)
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=64
    )
    vd_notice = ShownNowField(required=False)

    def __init__(self, *args, request=None, notice_digest="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[NOTICE].initial = notice_digest
        self.stamp = None
        shown_at = None
        if self.is_bound:
            posted = self.data.get(self.add_prefix("shown"), "")
            self.stamp = stamp_state(posted, request)
            if self.stamp in (FRESH, EXPIRED):
                # A person sent this form; sending it again at once is no
                # bot's speed.
                shown_at = time.time() - conf.get("MIN_FILL_SECONDS")
        self.fields["shown"].initial = make_stamp(request, shown_at)
        self.fields["idempotency_key"].initial = secrets.token_urlsafe(24)
        self.fields["attachments"].help_text = _(
            "Up to %(count)d files (PDF, images, office documents, text)."
        ) % {"count": conf.get("ATTACHMENT_MAX_COUNT")}

    def clean_email(self):
        """Django's validator lets ``mıke@…`` through (``re.IGNORECASE`` folds
        ``ı`` onto ``I``); the help desk takes ASCII local parts only."""
        try:
            return customers.normalize_email(self.cleaned_data["email"])
        except customers.InvalidAddressError as exc:
            raise forms.ValidationError(
                _("Please enter an e-mail address with the usual letters a–z."),
                code="invalid",
            ) from exc

    def clean(self):
        cleaned = super().clean()
        if self.stamp == EXPIRED:
            raise forms.ValidationError(
                _(
                    "This form was open for too long and has not been sent. "
                    "Please check your entries, attach any files again and "
                    "send it."
                ),
                code="expired",
            )
        return cleaned

    def visible_fields(self):
        """The fields shown as fields: all but the honeypot, which the page
        renders in its hidden container (:attr:`honeypot`)."""
        return [field for field in super().visible_fields() if field.name != HONEYPOT]

    @property
    def honeypot(self):
        return self[HONEYPOT]

    def caught_by(self) -> str | None:
        """Which trap caught the post (a ``CaughtReason`` value), or
        ``None``: the honeypot filled, the time stamp missing, forged or
        another visitor's, or the form sent too fast."""
        if self.cleaned_data.get(HONEYPOT):
            return "honeypot"
        if self.stamp == FORGED:
            return "forged"
        if self.stamp == TOO_FAST:
            return "too_fast"
        return None

    def looks_automated(self) -> bool:
        return self.caught_by() is not None

    def extra_data(self, fields) -> list[dict]:
        """The editor's fields as stored on the ticket: name, label and the
        value as the visitor saw it; a choice field (:data:`CHOICE_TYPES`)
        adds the stable values of what was chosen under ``choices``."""
        return [self.extra_row(field) for field in fields]

    def extra_row(self, field) -> dict:
        value = self.cleaned_data.get(field.clean_name)
        row = {"name": field.clean_name, "label": field.label}
        if field.field_type in CHOICE_TYPES:
            chosen = [v for v in (value if isinstance(value, list) else [value]) if v]
            labels = dict(field.choice_pairs())
            row["value"] = ", ".join(labels.get(v, v) for v in chosen)
            row["choices"] = chosen
            return row
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        row["value"] = "" if value is None else str(value)
        return row


def page_language(fields) -> str:
    """The language of the page the fields belong to (their locale), or the
    active one for fields not saved yet (a preview)."""
    for field in fields:
        if getattr(field, "locale_id", None):
            return field.locale.language_code.split("-")[0].lower()
    return (get_language() or "").split("-")[0].lower()


def date_formats(language: str) -> list[str]:
    """ISO first, then the language's typed dates."""
    return ["%Y-%m-%d", *TYPED_DATE_FORMATS.get(language, OTHER_TYPED_DATE_FORMATS)]


class ShownAgainAsISO:
    """A typed date shown again comes back in ISO, the only form a date input
    shows (the widget formats what the field reads from the text)."""

    def bound_data(self, data, initial):
        if self.disabled:
            return initial
        try:
            return self.to_python(data) or data
        except forms.ValidationError:
            return data


class PickedDateField(ShownAgainAsISO, forms.DateField):
    """A date field shown as ``<input type="date">`` that also takes a date
    typed the page's way (``20.11.2026`` in German, ``20/11/2026`` in
    English)."""

    def __init__(self, *, language: str = "", **kwargs):
        kwargs.setdefault("input_formats", date_formats(language))
        kwargs.setdefault(
            "widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        )
        super().__init__(**kwargs)


class PickedDateTimeField(ShownAgainAsISO, forms.DateTimeField):
    """A date and time as ``<input type="datetime-local">``; ISO (what the
    input sends) or the page's typed date with ``HH:MM``."""

    def __init__(self, *, language: str = "", **kwargs):
        typed = date_formats(language)[1:]
        kwargs.setdefault("input_formats", [f"{f} %H:%M" for f in typed])
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        )
        super().__init__(**kwargs)


class ContactFormBuilder(FormBuilder):
    """Wagtail's form builder with the core fields in front of the editor's,
    choices from the fields' ``options`` (values, labels in the page's
    language), and dates in the page's language."""

    def __init__(self, fields):
        super().__init__(fields)
        self.language = page_language(fields)

    def get_form_class(self):
        extra = {
            name: field
            for name, field in self.formfields.items()
            if name not in CORE_FIELDS + TRAP_FIELDS
        }
        return type("ContactForm", (ContactCoreForm,), extra)

    def get_formatted_field_choices(self, field):
        return field.choice_pairs()

    def get_formatted_field_initial(self, field):
        """The default values as choice values: an entry may name a choice
        by its value or by its label."""
        entries = super().get_formatted_field_initial(field)
        by_label = {label: value for value, label in field.choice_pairs()}
        values = {value for value, _label in field.choice_pairs()}
        return [
            entry if entry in values else by_label[entry]
            for entry in entries
            if entry in values or entry in by_label
        ]

    def get_field_options(self, field):
        options = super().get_field_options(field)
        if field.field_type in CHOICE_TYPES:
            initial = self.get_formatted_field_initial(field)
            if field.field_type in ("dropdown", "radio"):
                initial = initial[0] if initial else None
            options["initial"] = initial
        return options

    def create_dropdown_field(self, field, options):
        """A drop-down list that starts empty: "Please choose …" when an
        answer is required, "—" when not."""
        empty = PLEASE_CHOOSE if field.required else NOTHING_CHOSEN
        options["choices"] = [("", empty), *field.choice_pairs()]
        return forms.ChoiceField(**options)

    def create_date_field(self, field, options):
        return PickedDateField(language=self.language, **options)

    def create_datetime_field(self, field, options):
        return PickedDateTimeField(language=self.language, **options)
