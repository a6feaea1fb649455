from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VivadeskConfig(AppConfig):
    name = "vivadesk_wagtail"
    label = "vivadesk_wagtail"
    verbose_name = _("Help desk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks
        from .signal_handlers import register_signal_handlers

        checks.register_checks()
        register_signal_handlers()
        self.serve_contact_pages()

    def serve_contact_pages(self) -> None:
        """The contact page's form and seams (``models.pages``) are the
        contact form's code in ``pages``, which sits above the services; so
        is the page editor's form checking the extra fields."""
        from .models import ContactPage
        from .pages import admin_forms, forms, views

        ContactPage.form_builder = forms.ContactFormBuilder
        ContactPage.views = views
        ContactPage.base_form_class = admin_forms.ContactPageForm
