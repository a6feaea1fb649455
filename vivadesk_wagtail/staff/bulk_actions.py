"""Bulk actions of the ticket listing: assign, change status.

Each ticket goes through ``services.tickets`` on its own (its own row lock,
audit-log entry and notifications); a ticket whose status may not change
that way is skipped and counted, never forced.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from ..models import Ticket, TicketStatus
from ..permissions import agents, is_agent
from ..services import tickets
from .forms import display_name
from .statuses import status_choices


class AssignBulkForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=None, required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents()
        self.fields["assignee"].label_from_instance = display_name


class StatusBulkForm(forms.Form):
    status = forms.ChoiceField(
        label=pgettext_lazy("ticket", "Status"),
        choices=status_choices(exclude=(TicketStatus.CLOSED,)),
    )


class TicketBulkAction(SnippetBulkAction):
    """Tickets only, agents only; never "all rows of the table"."""

    models = [Ticket]
    template_name = "vivadesk_wagtail/staff/bulk_confirm.html"

    def __init__(self, request, model):
        if not is_agent(request.user):
            raise PermissionDenied
        super().__init__(request, model)

    def check_perm(self, obj):
        return is_agent(self.request.user)

    def get_all_objects_in_listing_query(self, parent_id):
        # "Select all" would mean every ticket ever, not the filtered listing.
        return []

    def get_execution_context(self):
        return {"user": self.request.user, **self.cleaned_form.cleaned_data}

    def get_success_message(self, num_parent_objects, num_child_objects):
        done = ngettext(
            "%(count)d ticket changed.",
            "%(count)d tickets changed.",
            num_parent_objects,
        ) % {"count": num_parent_objects}
        if not num_child_objects:
            return done
        skipped = ngettext(
            "%(count)d ticket skipped (closed or not allowed).",
            "%(count)d tickets skipped (closed or not allowed).",
            num_child_objects,
        ) % {"count": num_child_objects}
        return f"{done} {skipped}"


class AssignBulkAction(TicketBulkAction):
    display_name = _("Assign")
    action_type = "vivadesk_assign"
    aria_label = _("Assign the selected tickets")
    action_priority = 10
    form_class = AssignBulkForm

    @classmethod
    def execute_action(cls, objects, user=None, assignee=None, **kwargs):
        for ticket in objects:
            tickets.assign(ticket, assignee, by=user)
        return len(objects), 0


class StatusBulkAction(TicketBulkAction):
    display_name = pgettext_lazy("verb", "Change status")
    action_type = "vivadesk_status"
    aria_label = _("Change the status of the selected tickets")
    action_priority = 20
    form_class = StatusBulkForm

    @classmethod
    def execute_action(cls, objects, user=None, status=None, **kwargs):
        changed = skipped = 0
        for ticket in objects:
            try:
                tickets.change_status(ticket, status, by=user)
            except (tickets.TicketClosedError, tickets.InvalidTransitionError):
                skipped += 1
            else:
                changed += 1
        return changed, skipped
