"""Listing filters of the help-desk snippets (allow-listed fields only).

Every filter maps a fixed set of choices onto a fixed query; nothing the
client sends becomes a field name or lookup (cf. GHSA-mxcg-7m22-x9pj).
"""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from .. import conf
from ..models import (
    OPEN_STATUSES,
    Category,
    ContactPage,
    OutboundEmail,
    OutboundState,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from ..permissions import agents
from .forms import display_name
from .statuses import STAFF_LABELS, status_choices

#: Who is expected to act next.
WAITING_ON_US = (TicketStatus.NEW, TicketStatus.OPEN)
WAITING_ON_CUSTOMER = (TicketStatus.WAITING,)
FINISHED = (TicketStatus.DONE, TicketStatus.CLOSED)

SHOW_CHOICES = (
    ("on_us", _("Waiting for us")),
    ("on_customer", STAFF_LABELS[TicketStatus.WAITING.value]),
    ("finished", _("Done or closed")),
    ("all", _("All tickets")),
)
#: The "Sender" filter: tickets with a message whose sender is not verified.
SENDER_CHOICES = (("unverified", _("Sender not verified")),)

#: The "Due" filter: a service target's due time has passed, or is near
#: (``TARGET_WARNING``); ``next_due`` is only set while the clock runs.
DUE_CHOICES = (("overdue", _("overdue")), ("soon", _("due soon")))

SHOW_STATUSES = {
    "on_us": WAITING_ON_US,
    "on_customer": WAITING_ON_CUSTOMER,
    "finished": FINISHED,
}


def contact_page_choices():
    """One choice per contact page and its translations (the request type),
    by their common ``translation_key``; titled in the agent's language where
    the page has that version."""
    chosen = {}
    language = translation.get_language()
    pages = ContactPage.objects.select_related("locale").order_by("path")
    for page in pages.only("id", "title", "translation_key", "locale__language_code"):
        first = page.translation_key not in chosen
        if first or page.locale.language_code == language:
            chosen[page.translation_key] = page
    return [(str(key), page.title) for key, page in chosen.items()]


def assignee_choices():
    return [
        ("me", _("Mine")),
        ("none", _("Unassigned")),
        *((str(user.pk), display_name(user)) for user in agents()),
    ]


class TicketFilterSet(WagtailFilterSet):
    """Without any choice the listing shows the open tickets (searches
    included: "All tickets" widens it)."""

    show = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=SHOW_CHOICES,
        empty_label=_("Open tickets"),
        method="filter_show",
        widget=forms.RadioSelect,
    )
    status = django_filters.MultipleChoiceFilter(
        choices=status_choices(),
        label=pgettext_lazy("ticket", "Status"),
        widget=forms.CheckboxSelectMultiple,
    )
    assignee = django_filters.ChoiceFilter(
        label=_("Assignee"),
        choices=assignee_choices,
        empty_label=_("Anybody"),
        method="filter_assignee",
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), label=_("Category")
    )
    contact_page = django_filters.ChoiceFilter(
        label=_("Contact page"),
        choices=contact_page_choices,
        empty_label=_("Any page or mail"),
        method="filter_contact_page",
    )
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label=_("Created"),
        widget=DateRangePickerWidget,
    )
    sender = django_filters.ChoiceFilter(
        label=_("Sender"),
        choices=SENDER_CHOICES,
        empty_label=_("Any sender"),
        method="filter_sender",
    )

    due = django_filters.ChoiceFilter(
        label=_("Due"),
        choices=DUE_CHOICES,
        empty_label=_("Any time"),
        method="filter_due",
    )

    class Meta:
        model = Ticket
        fields = [
            "show",
            "status",
            "assignee",
            "category",
            "contact_page",
            "created",
            "sender",
            "due",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The agents, looked up once per listing: callable choices would be
        # queried again for validation, the form and the active-filter pills.
        self.filters["assignee"].extra["choices"] = assignee_choices()
        self.filters["contact_page"].extra["choices"] = contact_page_choices()

    def filter_show(self, queryset, name, value):
        statuses = SHOW_STATUSES.get(value)
        return queryset.filter(status__in=statuses) if statuses else queryset

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee_id=self.request.user.pk)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))

    def filter_contact_page(self, queryset, name, value):
        """Tickets sent from the chosen page or any of its translations."""
        versions = ContactPage.objects.filter(translation_key=value)
        return queryset.filter(contact_page__in=versions.values("pk"))

    def filter_sender(self, queryset, name, value):
        """Tickets with at least one message whose sender is not verified
        (a correlated ``EXISTS`` on the messages' ticket index)."""
        if value != "unverified":
            return queryset
        unverified = TicketMessage.objects.filter(
            ticket_id=OuterRef("pk"), sender_verified=False
        )
        return queryset.filter(Exists(unverified))

    def filter_due(self, queryset, name, value):
        """Open tickets whose next due time has passed (``overdue``) or
        comes within ``TARGET_WARNING`` (``soon``), on the partial index of
        open tickets' ``next_due``."""
        now = timezone.now()
        queryset = queryset.filter(status__in=OPEN_STATUSES)
        if value == "overdue":
            return queryset.filter(next_due__lt=now)
        soon = now + conf.get("TARGET_WARNING")
        return queryset.filter(next_due__gte=now, next_due__lte=soon)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not (data.get("show") or data.get("status")):
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        return queryset


class OutboundEmailFilterSet(WagtailFilterSet):
    state = django_filters.ChoiceFilter(choices=OutboundState.choices, label=_("State"))

    class Meta:
        model = OutboundEmail
        fields = ["state", "event"]
