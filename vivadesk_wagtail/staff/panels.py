"""The help desk's panel on the Wagtail dashboard (agents only)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.ui.components import Component

from ..models import OPEN_STATUSES, CaughtSubmission, InboundMail, Ticket, TicketStatus
from ..permissions import is_agent
from .counts import caught_post_tile, held_mail_tile
from .filters import WAITING_ON_US


class HelpDeskPanel(Component):
    """Counts of new, open, waiting-for-us and my tickets, each a link to the
    listing filtered the same way (one query); then held mail and caught
    posts, when there are any, linking to their listings."""

    name = "vivadesk_helpdesk"
    template_name = "vivadesk_wagtail/staff/home_panel.html"
    order = 50

    def counts(self, user) -> dict:
        return Ticket.objects.aggregate(
            new=Count("pk", filter=Q(status=TicketStatus.NEW)),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            on_us=Count("pk", filter=Q(status__in=WAITING_ON_US)),
            mine=Count("pk", filter=Q(status__in=OPEN_STATUSES, assignee=user)),
        )

    def get_context_data(self, parent_context):
        user = parent_context["request"].user
        counts = self.counts(user)
        listing = reverse("wagtailsnippets_vivadesk_wagtail_ticket:list")

        def link(**params):
            return f"{listing}?{urlencode(params)}" if params else listing

        tiles = [
            (
                pgettext_lazy("tickets", "New"),
                counts["new"],
                link(status=TicketStatus.NEW.value),
            ),
            (pgettext_lazy("tickets", "Open"), counts["open"], link()),
            (_("Waiting for us"), counts["on_us"], link(show="on_us")),
            (_("Mine"), counts["mine"], link(assignee="me")),
        ]
        return {"tiles": tiles + waiting_for_a_decision()}


def waiting_for_a_decision() -> list[tuple]:
    """Tiles for held mail and caught posts, only where some wait."""
    tiles = []
    held = InboundMail.objects.held().count()
    if held:
        url = reverse("wagtailsnippets_vivadesk_wagtail_inboundmail:list")
        tiles.append((held_mail_tile(held), held, url))
    caught = CaughtSubmission.objects.count()
    if caught:
        url = reverse("wagtailsnippets_vivadesk_wagtail_caughtsubmission:list")
        tiles.append((caught_post_tile(caught), caught, url))
    return tiles


def add_helpdesk_panel(request, panels) -> None:
    """``construct_homepage_panels`` hook."""
    if is_agent(request.user):
        panels.append(HelpDeskPanel())
