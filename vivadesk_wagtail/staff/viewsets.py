"""The "Help desk" menu of the Wagtail admin: tickets, held mail, spam,
outbox, categories.

Every URL of these viewsets (and of their choosers) is for agents only
(``permissions.agents_only``), on top of the model permission checks; page
editors may pick a category through its chooser (``access``).
"""

from django.db.models.functions import Coalesce
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.snippets.views.snippets import SnippetViewSetGroup

from ..models import Category, OutboundEmail, Ticket
from ..permissions import agents_only
from . import collision, merge, text_modules
from .access import AgentsOnlyViewSet, PageEditorsChooserViewSet
from .columns import FastColumn, FastDateColumn
from .deliverability import clear_undeliverable
from .filters import OutboundEmailFilterSet, TicketFilterSet
from .forms import display_name
from .held_mail import HeldMailViewSet
from .listing import TicketChooserViewSet, TicketIndexView
from .spam import SpamViewSet
from .statuses import status_label
from .targets import DueColumn, ServiceTargetViewSet
from .views import (
    TicketHistoryView,
    TicketScreenView,
    download_attachment,
    download_raw_mail,
)


class TicketViewSet(AgentsOnlyViewSet):
    model = Ticket
    icon = "help"
    menu_label = _("Tickets")
    menu_name = "vivadesk_tickets"
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50
    index_view_class = TicketIndexView
    chooser_viewset_class = TicketChooserViewSet
    inspect_view_class = TicketScreenView
    history_view_class = TicketHistoryView
    inspect_template_name = "vivadesk_wagtail/staff/ticket_screen.html"
    #: The reference (title column, linking to the ticket screen) comes first;
    #: see ``TicketIndexView.columns``. Sorting is limited to their sort keys.
    list_display = [
        FastColumn("subject", label=_("Subject")),
        FastColumn("customer", label=_("Customer"), accessor="customer.email"),
        FastColumn(
            "status",
            label=pgettext_lazy("ticket", "Status"),
            accessor=lambda ticket: status_label(ticket.status),
            sort_key="status",
        ),
        FastColumn(
            "assignee",
            label=_("Assignee"),
            accessor=lambda ticket: display_name(ticket.assignee),
        ),
        FastColumn("category", label=_("Category"), accessor="category"),
        FastDateColumn(
            "waiting_since", label=_("Waiting since"), sort_key="waiting_since"
        ),
        FastDateColumn("updated_at", label=_("Updated"), sort_key="updated_at"),
        DueColumn("next_due", label=_("Due"), sort_key="next_due"),
    ]
    filterset_class = TicketFilterSet
    search_fields = None  # the model's search_fields, through Wagtail search
    search_backend_name = "default"

    def get_queryset(self, request):
        return Ticket.objects.select_related(
            "customer", "assignee", "category"
        ).annotate(waiting_since=Coalesce("customer_activity_at", "created_at"))

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            history_url_name=self.get_url_name("history"),
            attachment_url_name=self.get_url_name("attachment"),
            raw_mail_url_name=self.get_url_name("raw_mail"),
            **kwargs,
        )

    def get_history_view_kwargs(self, **kwargs):
        return super().get_history_view_kwargs(
            inspect_url_name=self.get_url_name("inspect"), **kwargs
        )

    def get_urlpatterns(self):
        return super().get_urlpatterns() + agents_only(
            [
                path(
                    "attachment/<int:pk>/",
                    download_attachment,
                    name="attachment",
                ),
                path("raw-mail/<int:pk>/", download_raw_mail, name="raw_mail"),
                *merge.urlpatterns(self),
                *collision.urlpatterns(self),
                *text_modules.urlpatterns(self),
                path(
                    "<int:pk>/clear-undeliverable/",
                    clear_undeliverable,
                    {"inspect_url_name": self.get_url_name("inspect")},
                    name="clear_undeliverable",
                ),
            ]
        )


class OutboundEmailViewSet(AgentsOnlyViewSet):
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
        DateColumn("next_attempt_at", label=_("Next attempt")),
        DateColumn("created_at", label=_("Created"), sort_key="created_at"),
    ]
    inspect_view_fields = [
        "event",
        "recipient",
        "ticket",
        "subject",
        "language",
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "message_id",
        "in_reply_to",
        "created_at",
        "updated_at",
    ]
    filterset_class = OutboundEmailFilterSet
    search_fields = ["recipient", "subject", "event"]
    search_backend_name = None

    def get_queryset(self, request):
        return OutboundEmail.objects.select_related("ticket")


class CategoryViewSet(AgentsOnlyViewSet):
    """Categories, kept in the Help desk menu; page editors pick one for a
    contact page through the chooser, which lists names only."""

    model = Category
    chooser_viewset_class = PageEditorsChooserViewSet
    icon = "tag"
    menu_label = _("Categories")
    menu_name = "vivadesk_categories"
    list_display = ["name"]
    search_fields = ["name"]
    search_backend_name = None


class HelpDeskViewSetGroup(SnippetViewSetGroup):
    items = (
        TicketViewSet,
        HeldMailViewSet,
        SpamViewSet,
        OutboundEmailViewSet,
        CategoryViewSet,
        ServiceTargetViewSet,
    )
    menu_icon = "help"
    menu_label = _("Help desk")
    menu_name = "vivadesk"
    menu_order = 150
