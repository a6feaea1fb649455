"""The contact page's editor form: Wagtail's form-page form, refusing extra
fields the contact form could not use, each refusal at the field concerned
and naming it (:class:`ContactPageForm`, wired from ``ready()``).
"""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorList
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from wagtail.blocks import StreamBlockValidationError, StructBlockValidationError
from wagtail.contrib.forms.forms import WagtailAdminFormPageForm
from wagtail.contrib.forms.models import FORM_FIELD_CHOICES

from ..models.pages import CHOICE_TYPES
from .forms import CORE_FIELDS, TRAP_FIELDS, ContactCoreForm, ContactFormBuilder

#: Names an extra field cannot have, by the fixed field each one would
#: double: the fixed field's own name and the usual German and English
#: spellings of its label, as Wagtail makes a name from a label
#: ("E-Mail-Adresse" → ``e_mail_adresse``, "Anhänge" → ``anhange``).
FIXED_FIELD_NAMES = {
    "name": ("name", "ihr_name", "your_name", "full_name", "vollstandiger_name"),
    "email": (
        "email",
        "e_mail",
        "mail",
        "email_adresse",
        "e_mail_adresse",
        "ihre_e_mail_adresse",
        "mail_adresse",
        "email_address",
        "e_mail_address",
        "your_email",
        "your_e_mail",
        "your_email_address",
    ),
    "subject": ("subject", "betreff", "your_subject"),
    "message": (
        "message",
        "nachricht",
        "ihre_nachricht",
        "your_message",
        "mitteilung",
        "ihre_mitteilung",
    ),
    "attachments": (
        "attachments",
        "attachment",
        "anhang",
        "anhange",
        "anhaenge",
        "dateianhang",
        "dateianhange",
        "dateianhaenge",
    ),
}
#: Names the form needs for itself: the spam traps (``pages.forms``), the
#: honeypot's former names (``website``, ``url``; bots that learnt the form
#: still fill them in) and Django's CSRF token.
FORM_OWN_NAMES = (*TRAP_FIELDS, "website", "url", "homepage", "csrfmiddlewaretoken")
#: The types whose fields only show a single value: at most one default.
SINGLE_CHOICE_TYPES = ("dropdown", "radio")
#: The types whose default value the built form field checks as typed.
TYPED_DEFAULT_TYPES = ("singleline", "email", "number", "url", "date", "datetime")


def reserved_names() -> dict[str, str]:
    """Each reserved name and the fixed field it belongs to (``""`` for the
    form's own names)."""
    names = dict.fromkeys(FORM_OWN_NAMES, "")
    for field in CORE_FIELDS:
        names.update(dict.fromkeys(FIXED_FIELD_NAMES[field], field))
    return names


def fixed_field_label(name: str) -> str:
    """The label the contact page shows for the fixed field ``name``."""
    return str(ContactCoreForm.base_fields[name].label)


def type_label(field_type: str) -> str:
    return str(dict(FORM_FIELD_CHOICES).get(field_type, field_type))


def stream_error(message) -> StreamBlockValidationError:
    """An error shown above a StreamField's blocks."""
    return StreamBlockValidationError(non_block_errors=ErrorList([message]))


def split_entries(value: str) -> list[str]:
    """Default values as Wagtail splits them: by line, or else by comma."""
    lines = value.strip().splitlines()
    if len(lines) > 1:
        return [line.strip().rstrip(",").strip() for line in lines if line.strip()]
    return [entry.strip() for entry in value.split(",") if entry.strip()]


class ExtraFieldChecks:
    """The checks of one extra field's form in the page editor's formset.

    Each check adds its error to the form field it is about, unless that
    field already shows one (a StreamField shows only its first error).
    """

    def __init__(self, form):
        self.form = form
        self.field = form.instance
        data = form.cleaned_data
        self.label = (data.get("label") or self.field.label or "").strip()
        self.field_type = data.get("field_type") or self.field.field_type
        self.required = data.get("required", self.field.required)
        self.default = (data.get("default_value") or "").strip()

    def run(self) -> None:
        self.check_name()
        if self.field_type in CHOICE_TYPES:
            self.check_choices()
            self.check_choice_default()
        else:
            self.check_no_choices()
            self.check_typed_default()
        self.check_hidden()

    def refuse(self, name: str, error) -> None:
        if name not in self.form.errors:
            self.form.add_error(name, error)

    @property
    def names(self) -> dict:
        return {"label": self.label, "type": type_label(self.field_type)}

    def check_name(self) -> None:
        """A name made from the label: not empty, not reserved."""
        if not self.label:
            return
        stored = self.field.clean_name
        name = stored or self.field.get_field_clean_name()
        if not name:
            self.refuse(
                "label",
                _(
                    "No field name can be made from the label “%(label)s”. "
                    "Please use a label with letters or digits."
                )
                % self.names,
            )
            return
        reserved = reserved_names()
        if name not in reserved:
            return
        if reserved[name]:
            fixed = fixed_field_label(reserved[name])
            if stored and self.field.pk:
                message = _(
                    "This field is stored under the name “%(name)s” of the "
                    "field “%(fixed)s”, which is always on the form. Please "
                    "delete it and add a field with another label."
                )
            else:
                message = _(
                    "The field “%(fixed)s” is always on the form. Please "
                    "choose another label for this extra field."
                )
            self.refuse("label", message % {"name": name, "fixed": fixed})
            return
        self.refuse(
            "label",
            _(
                "The name “%(name)s” is reserved for the form itself (its spam "
                "protection). Please choose another label."
            )
            % {"name": name},
        )

    def check_choices(self) -> None:
        """At least one choice; no value and no label twice."""
        pairs = self.field.choice_pairs()
        if not pairs:
            self.refuse(
                "options",
                stream_error(
                    _(
                        "The field “%(label)s” is of the type “%(type)s” but "
                        "has no choices. Please add at least one."
                    )
                    % self.names
                ),
            )
            return
        block_errors = {}
        seen_values, seen_labels = set(), set()
        for index, (value, choice) in enumerate(pairs):
            if value in seen_values:
                block_errors[index] = self.choice_error(
                    "value",
                    _(
                        "The stored value “%(value)s” is already used by "
                        "another choice of the field “%(label)s”. Every "
                        "choice needs its own value."
                    )
                    % {"value": value, "label": self.label},
                )
            elif choice.strip().casefold() in seen_labels:
                block_errors[index] = self.choice_error(
                    "label",
                    _("The field “%(label)s” already has the choice “%(choice)s”.")
                    % {"choice": choice, "label": self.label},
                )
            seen_values.add(value)
            seen_labels.add(choice.strip().casefold())
        if block_errors:
            self.refuse("options", StreamBlockValidationError(block_errors))

    @staticmethod
    def choice_error(child: str, message) -> StructBlockValidationError:
        return StructBlockValidationError({child: forms.ValidationError(message)})

    def check_choice_default(self) -> None:
        """Default values name choices (by value or label); one at most for
        a drop-down list or radio buttons."""
        entries = split_entries(self.default)
        if not entries:
            return
        if self.field_type in SINGLE_CHOICE_TYPES and len(entries) > 1:
            self.refuse(
                "default_value",
                _(
                    "Visitors pick only one choice in the field “%(label)s”: "
                    "please give one default value at most."
                )
                % self.names,
            )
            return
        pairs = self.field.choice_pairs()
        known = {value for value, _label in pairs} | {label for _v, label in pairs}
        unknown = [entry for entry in entries if entry not in known]
        if unknown:
            self.refuse(
                "default_value",
                _(
                    "The default value “%(value)s” is not one of the choices of "
                    "the field “%(label)s”."
                )
                % {"value": unknown[0], "label": self.label},
            )

    def check_no_choices(self) -> None:
        """Choices on a field that shows none would silently be ignored."""
        if not self.field.choice_pairs():
            return
        types = get_text_list([type_label(t) for t in CHOICE_TYPES], _("or"))
        self.refuse(
            "options",
            stream_error(
                _(
                    "The field “%(label)s” is of the type “%(type)s”, which "
                    "shows no choices. Please remove the choices or choose "
                    "the type %(types)s."
                )
                % {**self.names, "types": types}
            ),
        )

    def check_typed_default(self) -> None:
        """A default value the field itself accepts, written as the form
        shows it (a date as ``2026-12-03`` for a date picker)."""
        if not self.default or self.field_type not in TYPED_DEFAULT_TYPES:
            return
        built = ContactFormBuilder([self.field]).formfields
        form_field = next(iter(built.values()))
        try:
            value = form_field.clean(self.default)
        except forms.ValidationError as error:
            self.refuse(
                "default_value",
                _("The default value of the field “%(label)s” is not valid: %(error)s")
                % {"label": self.label, "error": " ".join(error.messages)},
            )
            return
        shown = form_field.widget.format_value(value)
        if form_field.widget.format_value(self.default) != shown:
            self.refuse(
                "default_value",
                _(
                    "Please write the default value of the field “%(label)s” "
                    "as “%(value)s”, the way the form shows it."
                )
                % {"label": self.label, "value": shown},
            )

    def check_hidden(self) -> None:
        """A hidden field visitors must fill in needs a default value."""
        if self.field_type == "hidden" and self.required and not self.default:
            self.refuse(
                "default_value",
                _(
                    "The field “%(label)s” is hidden and required but has no "
                    "default value: visitors could never send the form. Please "
                    "give a default value or make the field optional."
                )
                % self.names,
            )


class ContactPageForm(WagtailAdminFormPageForm):
    """The contact page's editor form.

    Wagtail's form-page form already refuses two extra fields with the same
    name; this one also refuses, for each extra field: a name of a fixed
    field or of the form's own (:data:`FIXED_FIELD_NAMES`,
    :data:`FORM_OWN_NAMES`), a label without letters, a choice field
    without choices or with a value or label twice, choices on a field
    that shows none, a default value that is no choice or not valid for the
    field's type, and a hidden required field without a default value.
    """

    extra_fields_relation = "form_fields"

    def clean(self):
        cleaned_data = super().clean()
        formset = self.formsets.get(self.extra_fields_relation)
        if formset is not None:
            for form in formset.forms:
                # Wagtail's ``clean`` has validated each form; an extra form
                # left empty has no data to check.
                if form.cleaned_data and not form.cleaned_data.get("DELETE"):
                    ExtraFieldChecks(form).run()
        return cleaned_data
