"""Service targets in the admin: the targets per category
(:class:`ServiceTargetViewSet`, Help desk menu; agents see them, admins
edit them), the due times on the ticket screen (:func:`screen_context`)
and the listing's "Due" column (:class:`DueColumn`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn

from .. import conf
from ..dates import local_datetime
from ..models import ServiceTarget, Ticket, TicketStatus
from .access import AgentsOnlyViewSet
from .columns import FastValueMixin


class ServiceTargetForm(WagtailAdminModelForm):
    """One default row (no category) at most; a target, where set, is a
    positive number of hours (the model's validators set the minimum)."""

    def clean_category(self):
        category = self.cleaned_data.get("category")
        if category is None:
            others = ServiceTarget.objects.filter(category__isnull=True)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise forms.ValidationError(
                    _("There is a default service target already; choose a category.")
                )
        return category

    def clean(self):
        cleaned = super().clean()
        for name in ("first_response_hours", "resolution_hours"):
            value = cleaned.get(name)
            if value is not None and value <= 0:
                self.add_error(name, _("Enter a positive number of hours."))
        return cleaned


class ServiceTargetViewSet(AgentsOnlyViewSet):
    """The service targets per category ("Servicezeiten"): agents may look
    them up (``view_servicetarget``), admins change them (model
    permissions)."""

    model = ServiceTarget
    icon = "time"
    menu_label = _("Service targets")
    menu_name = "vivadesk_service_targets"
    add_to_admin_menu = False
    copy_view_enabled = False
    list_display = [
        Column("name", label=_("Category"), accessor="__str__"),
        "first_response_hours",
        "resolution_hours",
        DateColumn("updated_at", label=_("Updated"), sort_key="updated_at"),
    ]
    search_fields = None
    edit_handler = ObjectList(
        [
            FieldPanel("category"),
            FieldPanel("first_response_hours"),
            FieldPanel("resolution_hours"),
        ],
        base_form_class=ServiceTargetForm,
    )

    def get_queryset(self, request):
        return ServiceTarget.objects.select_related("category")


# --- the ticket screen ---------------------------------------------------------


@dataclass
class TargetState:
    """One target of a ticket as the screen shows it."""

    label: str
    due: datetime | None
    done_at: datetime | None = None
    #: ``met``, ``missed``, ``overdue``, ``soon``, ``paused`` or ``running``.
    state: str = "running"


def _state(ticket: Ticket, due, done_at, missed: bool, now) -> str:
    if done_at is not None:
        return "missed" if missed else "met"
    if ticket.targets_paused_at is not None or ticket.status not in (
        TicketStatus.NEW,
        TicketStatus.OPEN,
    ):
        return "paused"
    if due < now:
        return "overdue"
    if due <= now + conf.get("TARGET_WARNING"):
        return "soon"
    return "running"


def ticket_targets(ticket: Ticket, now: datetime | None = None) -> list[TargetState]:
    """The first response and the resolution, where a target applies."""
    now = now or timezone.now()
    found = []
    for label, due, done_at, missed in (
        (
            _("First response"),
            ticket.first_response_due,
            ticket.first_response_at,
            ticket.first_response_breached,
        ),
        (
            _("Resolution"),
            ticket.resolution_due,
            ticket.resolved_at,
            ticket.resolution_breached,
        ),
    ):
        if due is None:
            continue
        found.append(
            TargetState(label, due, done_at, _state(ticket, due, done_at, missed, now))
        )
    return found


def screen_context(view) -> dict:
    """What the ticket screen shows of the service targets (``_targets.html``)."""
    ticket = view.object
    return {
        "service_targets": ticket_targets(ticket),
        "targets_waiting": ticket.status == TicketStatus.WAITING,
    }


def urlpatterns(viewset) -> list:
    """This part's URLs under the tickets viewset (none)."""
    return []


# --- the listing ---------------------------------------------------------------


class DueColumn(FastValueMixin, Column):
    """``next_due`` of a ticket, marked when it has passed."""

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value is None:
            return mark_safe("<td>–</td>")
        iso, text = local_datetime(value)
        if value < timezone.now():
            return format_html(
                '<td><time class="vd-due vd-due--overdue" datetime="{}">{}</time> '
                '<span class="vd-badge vd-badge--danger">{}</span></td>',
                iso,
                text,
                _("overdue"),
            )
        return format_html(
            '<td><time class="vd-due" datetime="{}">{}</time></td>', iso, text
        )
