"""The reference site's own page types."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """The VIVA home page: a welcome text; its child pages form the navigation."""

    intro = RichTextField(_("intro"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    class Meta:
        verbose_name = _("home page")
