"""The forms of the ticket screen; each one applies itself through ``services``
(:class:`TicketForm`).
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..fields import AttachmentsField
from ..models import Category, Channel, MessageKind, TicketStatus
from ..naming import display_name
from ..permissions import agents
from ..services import text_modules, tickets
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
    """A text for the thread; a hidden key makes a double submit harmless.

    ``seen_message`` carries the id of the newest thread message the page
    showed: the view sends nothing if others wrote after it (the stale-form
    check, ``staff.collision.unless_stale``), and the form comes back with
    :attr:`stale_ids` set, to be sent again ("Send anyway") with the updated
    id and ``stale_confirmed``.
    """

    kind = MessageKind.STAFF

    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    attachments = AttachmentsField(label=_("Attachments"))
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput,
        validators=[RegexValidator(r"^[0-9a-f]{32}$")],
    )
    seen_message = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0
    )
    stale_confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)

    #: The ids of the messages the stale-form check found unseen, oldest first.
    stale_ids: tuple[int, ...] = ()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"idempotency_key": new_idempotency_key()})
        super().__init__(*args, **kwargs)

    def seen_for_render(self) -> int | None:
        """The ``seen_message`` the form is shown with again: the newest of
        the unseen messages after a stale check, else what was posted
        (``None``: the page's newest message)."""
        if self.stale_ids:
            return max(self.stale_ids)
        if self.is_bound and not self.errors.get("seen_message"):
            return self.cleaned_data.get("seen_message")
        return None

    def unsent_files(self) -> list[str]:
        """Names of the files a refused (stale) form had; the browser
        cannot send them again by itself."""
        if not self.stale_ids:
            return []
        return [upload.name for upload in self.cleaned_data.get("attachments", [])]

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
    #: The ids of the text modules inserted into the reply ("3,7"), set by
    #: the picker (``staff/text_modules.py``); counted once the reply is sent.
    text_modules = forms.CharField(widget=forms.HiddenInput, required=False)

    #: At most this many text modules are counted for one reply.
    MAX_TEXT_MODULES = 50

    def clean_text_modules(self) -> list[int]:
        """The ids, each once; anything that is not an id is ignored."""
        parts = (self.cleaned_data.get("text_modules") or "").split(",")
        ids = [
            int(part)
            for part in (part.strip() for part in parts)
            if part.isascii() and part.isdigit() and len(part) <= 9
        ]
        return list(dict.fromkeys(ids))[: self.MAX_TEXT_MODULES]

    def apply(self, ticket, user):
        status = self.cleaned_data.get("set_status") or None
        started = timezone.now()
        message = tickets.add_message(ticket, self.new_message(user), set_status=status)
        text_modules.count_sent(self.cleaned_data["text_modules"], message, started)
        return message


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


#: The actions of the ticket screen: the ``action`` value posted → its form.
ACTION_FORMS: dict[str, type[TicketForm]] = {
    "reply": ReplyForm,
    "note": NoteForm,
    "status": StatusForm,
    "assign": AssignForm,
    "category": CategoryForm,
}
