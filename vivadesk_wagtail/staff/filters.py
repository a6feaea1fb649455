"""Listing filters of the help-desk snippets (allow-listed fields only)."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet

from ..models import Category, OutboundEmail, OutboundState, Ticket, TicketStatus


def _agents(request):
    return (
        get_user_model()
        .objects.filter(assigned_helpdesk_tickets__isnull=False)
        .distinct()
    )


class TicketFilterSet(WagtailFilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=TicketStatus.choices, label=_("Status")
    )
    assignee = django_filters.ModelChoiceFilter(queryset=_agents, label=_("Assignee"))
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), label=_("Category")
    )

    class Meta:
        model = Ticket
        fields = ["status", "assignee", "category"]


class OutboundEmailFilterSet(WagtailFilterSet):
    state = django_filters.ChoiceFilter(choices=OutboundState.choices, label=_("State"))

    class Meta:
        model = OutboundEmail
        fields = ["state", "event"]
