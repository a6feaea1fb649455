"""Service targets: how soon (in business hours) the help desk answers and
resolves a ticket of a category. ``services.service_targets`` keeps each
ticket's due times."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceTarget(models.Model):
    """The targets of one category; the row without a category applies to
    tickets whose category has none (and to tickets without a category)."""

    category = models.OneToOneField(
        "vivadesk_wagtail.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="service_target",
        help_text=_("Leave empty for the default target of every other ticket."),
    )
    first_response_hours = models.DecimalField(
        _("first response within (business hours)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.25"))],
        help_text=_("Empty: no target for the first response."),
    )
    resolution_hours = models.DecimalField(
        _("resolution within (business hours)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.25"))],
        help_text=_("Empty: no target for the resolution."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["category__name"]
        verbose_name = _("service target")
        verbose_name_plural = _("service targets")

    def __str__(self) -> str:
        if self.category_id is None:
            return str(_("Default service target"))
        return str(self.category)
