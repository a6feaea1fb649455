from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VivadeskConfig(AppConfig):
    name = "vivadesk_wagtail"
    label = "vivadesk_wagtail"
    verbose_name = _("Help desk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401
        from .services import search_index  # noqa: F401 - its receiver

        checks.register_checks()
