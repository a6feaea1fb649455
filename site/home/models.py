"""The reference site's own page types: the home page, general content pages
and the two legal pages (imprint, privacy policy) linked from the footer."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from .blocks import content_body_blocks, home_body_blocks

LEGAL_TEXT_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul"]


class HomePage(Page):
    """The VIVA home page: a welcome text and its sections; its child pages
    form the navigation."""

    intro = RichTextField(_("intro"), blank=True)
    body = StreamField(
        home_body_blocks(),
        verbose_name=_("body"),
        blank=True,
        help_text=_(
            "The sections under the intro: an opening with a button, what VIVA "
            "offers, how the help desk works, free text."
        ),
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["wagtailcore.Page"]
    page_description = _("The start page of one language of the site.")

    class Meta:
        verbose_name = _("home page")


class ContentPage(Page):
    """A general page of text: an intro, headed sections and calls to action."""

    intro = RichTextField(
        _("intro"),
        blank=True,
        features=["bold", "italic", "link"],
        help_text=_("One or two sentences shown above the text."),
    )
    body = StreamField(content_body_blocks(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["home.HomePage", "home.ContentPage"]
    page_description = _(
        "A page of text with headings and buttons, e.g. how the help desk works."
    )

    class Meta:
        verbose_name = _("content page")
        verbose_name_plural = _("content pages")


class LegalPage(Page):
    """A legal text linked from the footer: one per language, directly under
    the home page, not in the menu."""

    body = RichTextField(
        _("text"),
        features=LEGAL_TEXT_FEATURES,
        help_text=_("The full legal text; use headings for its sections."),
    )

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count_per_parent = 1

    class Meta:
        abstract = True


class ImprintPage(LegalPage):
    page_description = _(
        "The imprint (legal notice): who runs the site and how to reach them. "
        "Linked from the footer."
    )

    class Meta:
        verbose_name = _("imprint")
        verbose_name_plural = _("imprints")


class PrivacyPage(LegalPage):
    page_description = _(
        "The privacy policy: which personal data the site and the help desk "
        "store, why, for how long, and the visitor's rights. Linked from the "
        "footer."
    )

    class Meta:
        verbose_name = _("privacy policy")
        verbose_name_plural = _("privacy policies")
