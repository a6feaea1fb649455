"""The "Help desk" menu of the Wagtail admin: tickets, outbox, categories."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from ..models import Category, OutboundEmail, Ticket
from .filters import OutboundEmailFilterSet, TicketFilterSet


class TicketViewSet(SnippetViewSet):
    model = Ticket
    icon = "help"
    menu_label = _("Tickets")
    menu_name = "vivadesk_tickets"
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50
    list_display = [
        Column("reference", label=_("Reference"), sort_key="number"),
        "subject",
        Column("customer", label=_("Customer"), accessor="customer.email"),
        Column(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            sort_key="status",
        ),
        Column("assignee", label=_("Assignee"), accessor="assignee"),
        DateColumn("updated_at", label=_("Updated"), sort_key="updated_at"),
    ]
    filterset_class = TicketFilterSet
    search_fields = None  # the model's search_fields, through Wagtail search
    search_backend_name = "default"
    inspect_view_fields = [
        "reference",
        "subject",
        "customer",
        "status",
        "assignee",
        "category",
        "language",
        "channel",
        "created_at",
        "updated_at",
        "done_at",
        "closed_at",
    ]

    def get_queryset(self, request):
        return Ticket.objects.select_related("customer", "assignee", "category")


class OutboundEmailViewSet(SnippetViewSet):
    model = OutboundEmail
    icon = "mail"
    menu_label = _("Outgoing mail")
    menu_name = "vivadesk_outbox"
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50
    list_display = [
        "event",
        "recipient",
        Column("ticket", label=_("Ticket"), accessor="ticket.reference"),
        Column(
            "state", label=_("State"), accessor="get_state_display", sort_key="state"
        ),
        "attempts",
        "last_error",
        DateColumn("created_at", label=_("Created"), sort_key="created_at"),
    ]
    filterset_class = OutboundEmailFilterSet
    search_fields = ["recipient", "subject", "event"]
    search_backend_name = None

    def get_queryset(self, request):
        return OutboundEmail.objects.select_related("ticket")


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "tag"
    menu_label = _("Categories")
    menu_name = "vivadesk_categories"
    list_display = ["name"]
    search_fields = ["name"]
    search_backend_name = None


class HelpDeskViewSetGroup(SnippetViewSetGroup):
    items = (TicketViewSet, OutboundEmailViewSet, CategoryViewSet)
    menu_icon = "help"
    menu_label = _("Help desk")
    menu_name = "vivadesk"
    menu_order = 150
