"""The contact-form page type editors place anywhere in the page tree."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.forms.models import AbstractForm, AbstractFormField
from wagtail.fields import RichTextField, StreamField
from wagtail.models import PanelPlaceholder, TranslatableMixin
from wagtail_localize.fields import SynchronizedField, TranslatableField

from .privacy import notice_digest
from .tickets import Category

#: The field types whose answers are picked from the field's ``options``.
CHOICE_TYPES = ("dropdown", "multiselect", "radio", "checkboxes")
#: Longest stable value made from a label.
CHOICE_VALUE_MAX_LENGTH = 100


def choice_value(label: str, taken: set[str]) -> str:
    """A stable value for a choice labelled ``label``: its slug, made unique
    among the values in ``taken`` (``drucker``, ``drucker-2``, …)."""
    base = slugify(label)[: CHOICE_VALUE_MAX_LENGTH - 4].strip("-") or "choice"
    value, number = base, 1
    while value in taken:
        number += 1
        value = f"{base}-{number}"
    return value


class ChoiceValueBlock(blocks.CharBlock):
    """A choice's stable value: translations keep the source's value, and the
    translation editor never offers it (wagtail-localize asks a block for its
    segments and gives it the translated ones back)."""

    def get_translatable_segments(self, value):
        return []

    def restore_translated_segments(self, value, segments):
        return value


class ChoiceOptionBlock(blocks.StructBlock):
    """One choice: the label visitors see (translated) and the value requests
    store (the same in every language)."""

    label = blocks.CharBlock(label=_("label"), max_length=255)
    value = ChoiceValueBlock(
        label=_("stored value"),
        required=False,
        max_length=CHOICE_VALUE_MAX_LENGTH,
        help_text=_(
            "What requests store for this choice. Left empty, it is made from "
            "the label on saving. Once requests have arrived, keep it as it is."
        ),
    )

    class Meta:
        label = _("choice")
        icon = "list-ul"


class ContactFormField(TranslatableMixin, AbstractFormField):
    """An extra field an editor adds to a contact page.

    Its ``clean_name`` (the key the answer is stored under), type and
    ``required`` are synchronised and cannot be overridden in a translation:
    translators change labels, help texts and choice labels only. The choices
    of a choice field (:data:`CHOICE_TYPES`) are its ``options``: a label per
    language and a stable value shared by all languages. Wagtail's ``choices``
    text is not used (the migration converting it leaves it empty).
    """

    page = ParentalKey(
        "ContactPage", on_delete=models.CASCADE, related_name="form_fields"
    )
    options = StreamField(
        [("choice", ChoiceOptionBlock())],
        blank=True,
        verbose_name=_("choices"),
        help_text=_(
            "For drop-down lists, multiple selects, radio buttons and "
            "checkboxes: one entry per choice."
        ),
    )

    panels = [
        FieldPanel("label"),
        FieldPanel("help_text"),
        FieldPanel("required"),
        FieldPanel("field_type", classname="formbuilder-type", required_on_save=True),
        FieldPanel("options", classname="formbuilder-choices"),
        FieldPanel("default_value", classname="formbuilder-default"),
    ]

    override_translatable_fields = [
        SynchronizedField("clean_name", overridable=False),
        SynchronizedField("field_type", overridable=False),
        SynchronizedField("required", overridable=False),
        TranslatableField("label"),
        TranslatableField("help_text"),
        TranslatableField("options"),
        SynchronizedField("choices", overridable=False),
        TranslatableField("default_value"),
    ]

    class Meta(AbstractFormField.Meta):
        unique_together = [("translation_key", "locale")]
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")

    def choice_pairs(self) -> list[tuple[str, str]]:
        """``(value, label)`` of each choice, in order, labels in this row's
        language."""
        return [
            (child.value["value"], child.value["label"])
            for child in self.options
            if child.block_type == "choice"
        ]

    def fill_choice_values(self) -> None:
        """Give every choice without a value one made from its label
        (:func:`choice_value`); values already set stay as they are."""
        children = [child for child in self.options if child.block_type == "choice"]
        taken = {child.value["value"] for child in children if child.value["value"]}
        for child in children:
            if not child.value["value"]:
                child.value["value"] = choice_value(child.value["label"], taken)
                taken.add(child.value["value"])

    def clean(self):
        super().clean()
        self.fill_choice_values()

    def save(self, *args, **kwargs):
        self.fill_choice_values()
        super().save(*args, **kwargs)


class ContactPage(AbstractForm):
    """A contact form whose submissions become help-desk tickets."""

    intro = RichTextField(_("intro"), blank=True)
    thank_you_text = RichTextField(_("thank-you text"), blank=True)
    #: Small print above the submit button; nothing is shown when empty.
    privacy_notice = RichTextField(
        _("privacy notice"), blank=True, features=["bold", "italic", "link"]
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("ticket category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    template = "vivadesk_wagtail/pages/contact_page.html"
    landing_page_template = "vivadesk_wagtail/pages/contact_page_landing.html"

    page_description = _(
        "A contact form: visitors' requests become help-desk tickets. It "
        "always asks for name, e-mail address, subject, message and "
        "attachments; you can add extra fields."
    )
    # The contact form's own panels (``pages.panels``) are named by path:
    # Wagtail's ``PanelPlaceholder``, for models that must not import the
    # admin code above them.
    content_panels = AbstractForm.content_panels + [
        PanelPlaceholder(
            "vivadesk_wagtail.pages.requests.RequestCountPanel",
            [],
            {"heading": _("Requests")},
        ),
        FieldPanel(
            "intro",
            help_text=_("Shown above the form, e.g. what to write about."),
        ),
        PanelPlaceholder("vivadesk_wagtail.pages.panels.FixedFieldsPanel", [], {}),
        PanelPlaceholder(
            "vivadesk_wagtail.pages.panels.FormFieldsPanel",
            ["form_fields"],
            {
                "label": _("Extra form fields"),
                "help_text": _(
                    "Fields asked for after the fixed ones, in this order. A "
                    "label must not repeat a fixed field (e.g. “Subject”)."
                ),
            },
        ),
        FieldPanel(
            "privacy_notice",
            help_text=_(
                "Shown under the form, above the send button, e.g. a sentence "
                "linking the privacy policy page. Left empty, nothing is shown."
            ),
        ),
        FieldPanel(
            "thank_you_text",
            help_text=_(
                "Shown on the thank-you page after sending, below the Ticket ID."
            ),
        ),
        FieldPanel(
            "category",
            help_text=_(
                "The category of the tickets this form opens, so that the "
                "right agents see them. Translations use the same category."
            ),
        ),
    ]
    override_translatable_fields = [SynchronizedField("category", overridable=False)]

    class Meta:
        verbose_name = _("contact page")
        verbose_name_plural = _("contact pages")

    # Wagtail's ``AbstractForm.serve`` runs the post; these are the seams it
    # offers (``wagtail/contrib/forms/models.py``). What they do is the
    # contact form's view code, which goes through the services above this
    # layer: ``VivadeskConfig.ready()`` plugs it in, with the form builder.

    #: The module serving the seams: ``rate_limited``, ``submit``, ``landing``
    #: (``pages.views``, set from ``ready()``).
    views = None
    #: Wagtail's form builder, ``pages.forms.ContactFormBuilder`` from
    #: ``ready()`` on.
    form_builder = None
    # The page editor's form (``base_form_class``) is
    # ``pages.admin_forms.ContactPageForm`` from ``ready()`` on.

    def serve(self, request, *args, **kwargs):
        """Wagtail's ``serve``, once the client IP is within its limit."""
        # Wagtail builds the form without the request; the form's time stamp
        # is bound to this visitor (``pages.forms``), so it is kept here for
        # :meth:`get_form` while this request is served.
        self.serving_request = request
        return self.views.rate_limited(self, request) or super().serve(
            request, *args, **kwargs
        )

    def get_form(self, *args, **kwargs):
        kwargs.setdefault("request", getattr(self, "serving_request", None))
        kwargs.setdefault("notice_digest", self.privacy_notice_digest())
        return super().get_form(*args, **kwargs)

    def privacy_notice_digest(self) -> str:
        """The digest of the privacy notice as the form shows it (the
        editor's rich-text source), which the form carries so that the post
        can tell the version its visitor saw; ``""`` without a notice."""
        return notice_digest(self.privacy_notice) if self.privacy_notice else ""

    def process_form_submission(self, form):
        """A ticket through ``services.intake`` (or a post caught as spam),
        instead of Wagtail's ``FormSubmission`` row."""
        return self.views.submit(self, self.serving_request, form)

    def render_landing_page(self, request, form_submission=None, *args, **kwargs):
        """The thank-you page with the Ticket ID and what became of its mail."""
        return self.views.landing(self, request, form_submission)

    def answers(self, rows: list[dict]) -> list[dict]:
        """A ticket's stored form rows (``ContactCoreForm.extra_data``) as read
        in this page's language: the label of this page's field of the same
        name, and a choice field's answer from its stored values. A row whose
        field is gone, or whose chosen value no longer is a choice, keeps its
        stored label or value."""
        fields = {field.clean_name: field for field in self.form_fields.all()}
        return [self.answer(row, fields.get(row.get("name"))) for row in rows]

    @staticmethod
    def answer(row: dict, field: ContactFormField | None) -> dict:
        row = dict(row)
        if field is None:
            return row
        row["label"] = field.label
        chosen = row.get("choices")
        if field.field_type in CHOICE_TYPES and isinstance(chosen, list):
            labels = dict(field.choice_pairs())
            if all(value in labels for value in chosen):
                row["value"] = ", ".join(labels[value] for value in chosen)
        elif field.field_type in DATE_TYPES:
            row["value"] = readable_date(str(row.get("value", "")), field.field_type)
        return row


#: Date field types, with how their stored answer is read and shown.
DATE_TYPES = {
    "date": (parse_date, "DATE_FORMAT"),
    "datetime": (parse_datetime, "DATETIME_FORMAT"),
}


def readable_date(value: str, field_type: str) -> str:
    """A stored date answer (ISO, as the form cleaned it) in the active
    language's format ("20. November 2026", "Nov. 20, 2026"); anything else
    as it is."""
    parse, format_name = DATE_TYPES[field_type]
    try:
        parsed = parse(value)
    except ValueError:
        parsed = None
    if parsed is None:
        return value
    if isinstance(parsed, datetime) and timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return date_format(parsed, format_name)


def ticket_answers(ticket) -> list[dict]:
    """The ticket's extra form fields the customer answered (``label``,
    ``value``) as read in the active language: through its contact page's
    version in that language (:meth:`ContactPage.answers`), else as they were
    stored. A field left empty is no answer and not listed. Loads the page
    only for a ticket with form data."""
    stored = ticket.form_data if isinstance(ticket.form_data, list) else []
    rows = [row for row in stored if isinstance(row, dict)]
    if not rows:
        return []
    source = None
    if ticket.contact_page_id:
        source = ContactPage.objects.filter(pk=ticket.contact_page_id).first()
    if source is not None:
        rows = source.localized.specific.answers(rows)
    answers = [
        {"label": str(row.get("label", "")), "value": str(row.get("value", ""))}
        for row in rows
    ]
    return [answer for answer in answers if answer["value"].strip()]
