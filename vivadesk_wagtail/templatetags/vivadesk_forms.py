"""Helpers of the shared form template (``includes/form_fields.html``)."""

from django import template

register = template.Library()


@register.filter
def asks_required(form) -> bool:
    """Whether any visible field of ``form`` must be filled in (the form
    then shows the "* Required" line once)."""
    return any(field.field.required for field in form.visible_fields())
