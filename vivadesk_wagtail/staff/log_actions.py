"""Help-desk actions in Wagtail's audit log (the snippet History view).

``services.tickets`` and ``services.spam`` write the entries; the labels and
messages here are what the History view shows, in the reader's language.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogFormatter

from ..models import CaughtReason, ErasureReason, Rating
from .statuses import status_label


def _reason_label(value) -> str:
    try:
        return str(CaughtReason(value).label)
    except ValueError:
        return str(value)


def _user_name(pk) -> str:
    if pk is None:
        return str(_("nobody"))
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None:
        return str(_("a deleted user"))
    return user.get_full_name() or user.get_username()


class StatusFormatter(LogFormatter):
    label = _("Change status")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Status changed from “%(old)s” to “%(new)s”") % {
            "old": status_label(data.get("old")),
            "new": status_label(data.get("new")),
        }


class AssignFormatter(LogFormatter):
    label = _("Assign")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Assignee changed from %(old)s to %(new)s") % {
            "old": _user_name(data.get("old")),
            "new": _user_name(data.get("new")),
        }


class CategoryFormatter(LogFormatter):
    label = _("Category")

    def format_message(self, log_entry):
        name = (log_entry.data or {}).get("category")
        if not name:
            return _("Category removed")
        return _("Category set to “%(name)s”") % {"name": name}


class UndeliverableClearedFormatter(LogFormatter):
    label = _("Mail deliverable again")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _(
            "Mail to %(email)s allowed again (it was marked undeliverable: %(detail)s)"
        ) % {"email": data.get("email", ""), "detail": data.get("detail") or "–"}


class SpamAcceptFormatter(LogFormatter):
    label = _("Accept caught post")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Accepted as ticket %(ticket)s (caught: %(reason)s)") % {
            "ticket": data.get("ticket", ""),
            "reason": _reason_label(data.get("reason")),
        }


class SpamDeleteFormatter(LogFormatter):
    label = _("Delete caught post")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Deleted (caught: %(reason)s)") % {
            "reason": _reason_label(data.get("reason"))
        }


class FromSpamFormatter(LogFormatter):
    label = _("Accepted from spam")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _(
            "Opened from a contact-form post the spam traps had caught (%(reason)s)"
        ) % {"reason": _reason_label(data.get("reason"))}


class ErasureScheduledFormatter(LogFormatter):
    """An agent scheduled a customer's erasure: the reason, never the
    customer (the entry's label is the request's number)."""

    label = _("Erasure scheduled")

    def format_message(self, log_entry):
        value = (log_entry.data or {}).get("reason")
        try:
            reason = str(ErasureReason(value).label)
        except ValueError:
            reason = str(value or "–")
        return _("Account erasure scheduled by an agent (reason: %(reason)s)") % {
            "reason": reason
        }


class MergeFormatter(LogFormatter):
    """Both tickets of a merge (``services.merge``) get an entry."""

    label = _("Merge")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        if data.get("into"):
            return _("Merged into %(ticket)s") % {"ticket": data["into"]}
        return _("%(ticket)s merged into this ticket") % {
            "ticket": data.get("from", "?")
        }


class RatingFormatter(LogFormatter):
    """The customer rated the ticket, or changed the rating: the codes
    only, never the comment."""

    label = _("Customer rating")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        new = _rating_label(data.get("new"))
        if not data.get("old"):
            return _("The customer rated the help “%(new)s”") % {"new": new}
        return _("The customer changed the rating from “%(old)s” to “%(new)s”") % {
            "old": _rating_label(data.get("old")),
            "new": new,
        }


def _rating_label(value) -> str:
    try:
        return str(Rating(value).label)
    except ValueError:
        return str(value or "–")


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
    actions.register_action("vivadesk.assign")(AssignFormatter)
    actions.register_action("vivadesk.category")(CategoryFormatter)
    actions.register_action("vivadesk.undeliverable_cleared")(
        UndeliverableClearedFormatter
    )
    actions.register_action("vivadesk.spam.accept")(SpamAcceptFormatter)
    actions.register_action("vivadesk.spam.delete")(SpamDeleteFormatter)
    actions.register_action("vivadesk.ticket.from_spam")(FromSpamFormatter)
    actions.register_action("vivadesk.erasure.scheduled")(ErasureScheduledFormatter)
    actions.register_action("vivadesk.rating")(RatingFormatter)
    actions.register_action("vivadesk.merge")(MergeFormatter)
