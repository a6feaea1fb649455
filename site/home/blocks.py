"""StreamField blocks of the reference site's pages: few and plain, every text
a CharBlock, TextBlock or RichTextBlock, so wagtail-localize translates them."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul"]


class CallToActionBlock(blocks.StructBlock):
    """A link to a page of the site, with a label of its own."""

    page = blocks.PageChooserBlock(label=_("page"))
    label = blocks.CharBlock(
        label=_("label"),
        max_length=80,
        help_text=_("The text of the button, e.g. “Send a request”."),
    )

    class Meta:
        icon = "link"
        label = _("Call to action")
        template = "home/blocks/call_to_action.html"


class OptionalCallToActionBlock(CallToActionBlock):
    page = blocks.PageChooserBlock(label=_("page"), required=False)
    label = blocks.CharBlock(
        label=_("label"),
        max_length=80,
        required=False,
        help_text=_("The text of the button; leave page and label empty for none."),
    )


class HeroBlock(blocks.StructBlock):
    """The page's opening: a heading, a short text and one call to action."""

    heading = blocks.CharBlock(label=_("heading"), max_length=120)
    text = blocks.TextBlock(label=_("text"), required=False)
    action = OptionalCallToActionBlock(label=_("call to action"))

    class Meta:
        icon = "pick"
        label = _("Hero")
        template = "home/blocks/hero.html"


class CardBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=120)
    text = blocks.TextBlock(label=_("text"))

    class Meta:
        icon = "doc-full"
        label = _("Card")


class FeaturesBlock(blocks.StructBlock):
    """What VIVA offers: a heading over a grid of cards."""

    heading = blocks.CharBlock(label=_("heading"), max_length=120)
    cards = blocks.ListBlock(CardBlock(), label=_("cards"))

    class Meta:
        icon = "list-ul"
        label = _("Feature cards")
        template = "home/blocks/features.html"


class StepsBlock(blocks.StructBlock):
    """How something works: a heading over numbered steps."""

    heading = blocks.CharBlock(label=_("heading"), max_length=120)
    steps = blocks.ListBlock(CardBlock(label=_("Step")), label=_("steps"))

    class Meta:
        icon = "list-ol"
        label = _("Steps")
        template = "home/blocks/steps.html"


class HeadingBlock(blocks.CharBlock):
    """A section heading (h2) inside the page's text."""

    class Meta:
        icon = "title"
        label = _("Heading")
        template = "home/blocks/heading.html"


def home_body_blocks():
    return [
        ("hero", HeroBlock()),
        ("features", FeaturesBlock()),
        ("steps", StepsBlock()),
        ("text", blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Text"))),
    ]


def content_body_blocks():
    return [
        ("heading", HeadingBlock(max_length=120)),
        ("text", blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Text"))),
        ("call_to_action", CallToActionBlock()),
    ]
