"""Customer satisfaction: one rating per ticket, given through the signed
links of the "Done" mail (``services.satisfaction``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Rating(models.TextChoices):
    GOOD = "good", _("Good")
    BAD = "bad", _("Bad")


class SatisfactionRating(models.Model):
    ticket = models.OneToOneField(
        "vivadesk_wagtail.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="rating",
    )
    rating = models.CharField(_("rating"), max_length=8, choices=Rating.choices)
    comment = models.TextField(_("comment"), blank=True)
    #: When the customer first rated; changes are accepted for
    #: ``RATING_CHANGE_PERIOD`` after it.
    created_at = models.DateTimeField(_("rated"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.rating}"
