"""The contact-form page type editors place anywhere in the page tree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.contrib.forms.models import AbstractForm, AbstractFormField
from wagtail.fields import RichTextField
from wagtail.models import TranslatableMixin
from wagtail_localize.fields import SynchronizedField, TranslatableField

from .tickets import Category


class ContactFormField(TranslatableMixin, AbstractFormField):
    """An extra field an editor adds to a contact page.

    Its ``clean_name`` (the key the answer is stored under) is synchronised,
    never translated: translators change labels and help texts only.
    """

    page = ParentalKey(
        "ContactPage", on_delete=models.CASCADE, related_name="form_fields"
    )

    override_translatable_fields = [
        SynchronizedField("clean_name"),
        SynchronizedField("field_type"),
        SynchronizedField("required"),
        TranslatableField("label"),
        TranslatableField("help_text"),
        TranslatableField("choices"),
        TranslatableField("default_value"),
    ]

    class Meta(AbstractFormField.Meta):
        unique_together = [("translation_key", "locale")]


class ContactPage(AbstractForm):
    """A contact form whose submissions become help-desk tickets."""

    intro = RichTextField(_("intro"), blank=True)
    thank_you_text = RichTextField(_("thank-you text"), blank=True)
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

    content_panels = AbstractForm.content_panels + [
        FieldPanel("intro"),
        InlinePanel("form_fields", label=_("Extra form fields")),
        FieldPanel("thank_you_text"),
        FieldPanel("category"),
    ]
    override_translatable_fields = [SynchronizedField("category")]

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
        return super().get_form(*args, **kwargs)

    def process_form_submission(self, form):
        """A ticket through ``services.intake`` (or a post caught as spam),
        instead of Wagtail's ``FormSubmission`` row."""
        return self.views.submit(self, self.serving_request, form)

    def render_landing_page(self, request, form_submission=None, *args, **kwargs):
        """The thank-you page with the ticket id and what became of its mail."""
        return self.views.landing(self, request, form_submission)
