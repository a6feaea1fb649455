"""Template tags of the translation editor (wagtail-localize's
``edit_translation.html``, overridden in ``templates/wagtail_localize/``)."""

from django import template

from .. import translation_admin

register = template.Library()


@register.inclusion_tag(
    "vivadesk_wagtail/translations/editor_status.html", takes_context=True
)
def vivadesk_translation_status(context, translation, instance):
    """The out-of-date banner and the submit-for-moderation form."""
    return translation_admin.editor_status(context["request"], translation, instance)
