"""Help-desk actions in Wagtail's audit log (the snippet History view)."""

from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogFormatter

from ..models import TicketStatus


def _status_label(value) -> str:
    try:
        return str(TicketStatus(value).label)
    except ValueError:
        return str(value)


class StatusFormatter(LogFormatter):
    label = _("Change status")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Status changed from “%(old)s” to “%(new)s”") % {
            "old": _status_label(data.get("old")),
            "new": _status_label(data.get("new")),
        }


def register_log_actions(actions) -> None:
    actions.register_action(
        "vivadesk.ticket.open", _("Open ticket"), _("Ticket opened")
    )
    actions.register_action(
        "vivadesk.message.customer", _("Customer message"), _("Customer wrote")
    )
    actions.register_action("vivadesk.message.reply", _("Reply"), _("Replied"))
    actions.register_action(
        "vivadesk.message.note", _("Internal note"), _("Internal note added")
    )
    actions.register_action(
        "vivadesk.message.auto", _("Automatic reply"), _("Automatic reply received")
    )
    actions.register_action("vivadesk.status")(StatusFormatter)
    actions.register_action("vivadesk.assign", _("Assign"), _("Assignee changed"))
    actions.register_action("vivadesk.category", _("Category"), _("Category changed"))
