"""The forms of the ticket screen; each one applies itself through ``services``
(:class:`TicketForm`).
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..fields import AttachmentsField
from ..models import Category, Channel, MessageKind, TicketStatus
from ..permissions import agents
from ..services import tickets
from .statuses import status_choices

#: Statuses a reply can set in the same step ("reply and …").
REPLY_THEN = (
    ("", _("Keep the status")),
    (TicketStatus.WAITING.value, _("Wait for the customer")),
    (TicketStatus.DONE.value, _("Mark as done")),
)


def new_idempotency_key() -> str:
    """A fresh key for one rendering of a reply or note form."""
    return uuid.uuid4().hex


class TicketForm(forms.Form):
    """Base: remembers the ticket; subclasses implement :meth:`apply`.

    Every form takes the ticket it acts on (``ticket=``) and offers
    ``apply(ticket, user)``, which calls exactly one service function. The
    view turns the service's refusals (closed ticket, forbidden transition)
    into form errors, so the agent's text is never lost.
    """

    #: Shown after the action succeeded.
    success_message = ""

    def __init__(self, *args, ticket, **kwargs):
        self.ticket = ticket
        super().__init__(*args, **kwargs)

    def apply(self, ticket, user):  # pragma: no cover - abstract
        raise NotImplementedError


class MessageForm(TicketForm):
    """A text for the thread; a hidden key makes a double submit harmless."""

    kind = MessageKind.STAFF

    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    attachments = AttachmentsField(label=_("Attachments"))
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput,
        validators=[RegexValidator(r"^[0-9a-f]{32}$")],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"idempotency_key": new_idempotency_key()})
        super().__init__(*args, **kwargs)

    def service_key(self) -> str:
        """The key handed to ``services``: scoped to ticket and kind."""
        data = self.cleaned_data
        return f"staff-{self.kind}-{self.ticket.pk}-{data['idempotency_key']}"

    def new_message(self, user) -> tickets.NewMessage:
        return tickets.NewMessage(
            body=self.cleaned_data["body"],
            kind=self.kind,
            channel=Channel.STAFF,
            author=user,
            idempotency_key=self.service_key(),
            attachments=self.cleaned_data["attachments"],
        )


class ReplyForm(MessageForm):
    kind = MessageKind.STAFF
    success_message = _("Your reply was sent to the customer.")

    body = forms.CharField(
        label=_("Reply to the customer"), widget=forms.Textarea(attrs={"rows": 8})
    )
    set_status = forms.ChoiceField(label=_("Then"), choices=REPLY_THEN, required=False)

    def apply(self, ticket, user):
        status = self.cleaned_data.get("set_status") or None
        return tickets.add_message(ticket, self.new_message(user), set_status=status)


class NoteForm(MessageForm):
    kind = MessageKind.NOTE
    success_message = _("The internal note was added.")

    body = forms.CharField(
        label=_("Internal note (never shown to the customer)"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def apply(self, ticket, user):
        return tickets.add_message(ticket, self.new_message(user))


class StatusForm(TicketForm):
    success_message = _("The status was changed.")

    status = forms.ChoiceField(label=pgettext_lazy("ticket", "Status"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = tickets.ALLOWED.get(TicketStatus(self.ticket.status), set())
        self.fields["status"].choices = [("", _("Choose a status"))] + [
            (value, label) for value, label in status_choices() if value in allowed
        ]

    def apply(self, ticket, user):
        return tickets.change_status(ticket, self.cleaned_data["status"], by=user)


class AssignForm(TicketForm):
    success_message = _("The assignee was changed.")

    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=None,
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents()
        self.fields["assignee"].label_from_instance = display_name

    def apply(self, ticket, user):
        return tickets.assign(ticket, self.cleaned_data["assignee"], by=user)


class CategoryForm(TicketForm):
    success_message = _("The category was changed.")

    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.all(),
        required=False,
        empty_label=_("No category"),
    )

    def apply(self, ticket, user):
        return tickets.set_category(ticket, self.cleaned_data["category"], by=user)


def display_name(user) -> str:
    """How a staff user is shown in pickers and on the screen."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


#: The actions of the ticket screen: the ``action`` value posted → its form.
ACTION_FORMS: dict[str, type[TicketForm]] = {
    "reply": ReplyForm,
    "note": NoteForm,
    "status": StatusForm,
    "assign": AssignForm,
    "category": CategoryForm,
}
