"""Which agent has which ticket screen open, for the collision warning."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketViewer(models.Model):
    """One agent on one ticket screen, refreshed while the page is open
    (``services.presence``); rows older than ``PRESENCE_TIMEOUT`` count as
    gone."""

    ticket = models.ForeignKey(
        "vivadesk_wagtail.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    seen_at = models.DateTimeField(_("last seen"), db_index=True)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("ticket viewer")
        verbose_name_plural = _("ticket viewers")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "user"], name="vivadesk_ticketviewer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.user_id}"
