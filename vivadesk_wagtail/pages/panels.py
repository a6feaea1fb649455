"""Panels of the contact page editor: the fixed fields shown read-only
(:class:`FixedFieldsPanel`) and the extra fields headed by their own labels
(:class:`FormFieldsPanel`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import InlinePanel, Panel

from ..models.pages import CHOICE_TYPES
from .forms import CORE_FIELDS, ContactCoreForm

#: How an extra field is headed in the editor: its label and its type.
ROW_HEADING = _("%(label)s (%(type)s)")


@dataclass(frozen=True)
class FixedField:
    name: str
    label: str
    required: bool


def fixed_fields() -> list[FixedField]:
    """The fields every contact form has, labelled as the page shows them."""
    fields = ContactCoreForm.base_fields
    return [
        FixedField(name, str(fields[name].label), fields[name].required)
        for name in CORE_FIELDS
    ]


def row_heading(form) -> str:
    """An extra field's heading: "Kaufdatum (Datum)", what the editor typed
    when the form comes back with errors; ``""`` without a label."""
    label = (form["label"].value() or "").strip()
    if not label:
        return ""
    field_type = form["field_type"].value()
    type_name = dict(form.fields["field_type"].choices).get(field_type)
    if not field_type or not type_name:
        return label
    return ROW_HEADING % {"label": label, "type": type_name}


class FixedFieldsPanel(Panel):
    """The fixed fields of the contact form, read-only, with a note that
    the editor's extra fields follow them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("heading", _("Fixed form fields"))
        super().__init__(*args, **kwargs)

    class BoundPanel(Panel.BoundPanel):
        template_name = "vivadesk_wagtail/pages/admin/fixed_fields_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["fixed_fields"] = fixed_fields()
            return context


class FormFieldsPanel(InlinePanel):
    """Wagtail's ``InlinePanel`` whose rows are headed by the field's label
    and type instead of "Extra form fields 1"; a Stimulus controller
    (``vd-form-field-heading``) keeps the heading in step while the editor
    types."""

    #: A row without a label yet.
    new_row_heading = _("New field")

    class BoundPanel(InlinePanel.BoundPanel):
        template_name = "vivadesk_wagtail/pages/admin/form_fields_panel.html"

        class Media:
            js = ["vivadesk_wagtail/js/form_field_heading.js"]

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            if self.form is None:
                return
            for child in self.children:
                child.row_heading = row_heading(child.form)
            self.empty_child.row_heading = ""

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["new_row_heading"] = self.panel.new_row_heading
            context["choice_types_json"] = json.dumps(CHOICE_TYPES)
            context["row_heading_format"] = ROW_HEADING % {
                "label": "{label}",
                "type": "{type}",
            }
            return context
