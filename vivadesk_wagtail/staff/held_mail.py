"""Held mail in the Wagtail admin: review and decide (agents only), through
``services.held_mail`` (:class:`HeldMailViewSet`, :class:`HeldMailScreenView`).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.snippets.views import snippets as snippet_views

from ..models import InboundMail, InboundState, Ticket
from ..permissions import is_agent
from ..services import held_mail as service
from .access import AgentsOnlyViewSet
from .counts import counted_paginator, held_mail_count

#: The menu item's label and the title of the page it opens.
TITLE = gettext_lazy("Held mail")

#: Reasons as staff read them.
REASONS = {
    "unknown_sender": gettext_lazy("Unknown sender"),
    "unconfirmed_sender": gettext_lazy("Sender has not confirmed the account"),
    "sender_mismatch": gettext_lazy("Sender is not the ticket's customer"),
    "ambiguous_from": gettext_lazy("Ambiguous sender address"),
    "malformed_from": gettext_lazy("Malformed sender address"),
    "missing_from": gettext_lazy("No sender address"),
    "dmarc_fail": gettext_lazy("Failed DMARC at our mail server"),
    "dmarc_other_domain": gettext_lazy("Our mail server judged another sender domain"),
    "staff_sender": gettext_lazy("Sent from a staff address"),
    "deactivated_sender": gettext_lazy("Sender's account was deactivated"),
    "bounce_unconfirmed": gettext_lazy("Bounce that could not be confirmed"),
    "too_large": gettext_lazy("Too large to read"),
    "malformed_mime": gettext_lazy("Malformed mail structure"),
    "not_a_mail": gettext_lazy("Not a mail (e.g. an Outlook .msg file or a document)"),
    "flood": gettext_lazy("Too many new tickets from this sender"),
    "error": gettext_lazy("Processing error"),
    "transient_error": gettext_lazy("Repeated database errors during processing"),
}


def reason_label(row: InboundMail) -> str:
    return str(REASONS.get(row.reason, row.reason))


class AcceptReplyForm(forms.Form):
    ticket = forms.CharField(label=gettext_lazy("Ticket reference"), max_length=32)

    def clean_ticket(self):
        reference = self.cleaned_data["ticket"].strip().strip("[]")
        ticket = Ticket.objects.filter(reference__iexact=reference).first()
        if ticket is None:
            raise forms.ValidationError(_("No ticket has this reference."))
        return ticket


class HeldMailScreenView(snippet_views.InspectView):
    """The review screen of one mail, with its actions.

    The visible text (plain text, escaped), the reason and details, and four
    POST actions applied through ``services.held_mail`` — accept as reply,
    accept as new ticket, discard, reprocess. Each is idempotent: a second
    POST of the same action finds the mail no longer held and changes
    nothing.
    """

    any_permission_required = ["view"]
    page_title = TITLE

    def get_breadcrumbs_items(self):
        """Wagtail's, with the listing named like its menu item."""
        items = super().get_breadcrumbs_items()
        if not self.index_url_name:
            return items
        index_url = reverse(self.index_url_name)
        return [
            {**item, "label": TITLE} if item.get("url") == index_url else item
            for item in items
        ]

    def dispatch(self, request, *args, **kwargs):
        if not is_agent(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, queryset=None):
        return get_object_or_404(
            InboundMail.objects.select_related("ticket"), pk=self.pk
        )

    def get_fields(self):
        return []

    def get_context_data(self, reply_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        row = self.object
        initial = {"ticket": row.ticket.reference if row.ticket_id else ""}
        context.update(
            mail=row,
            reason=reason_label(row),
            is_held=row.state == InboundState.HELD,
            reply_form=reply_form or AcceptReplyForm(initial=initial),
        )
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        user = request.user
        pk = self.object.pk
        try:
            if action == "accept_reply":
                form = AcceptReplyForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(
                        self.get_context_data(reply_form=form)
                    )
                service.accept_as_reply(pk, form.cleaned_data["ticket"], by=user)
            elif action == "accept_new":
                service.accept_as_new_ticket(pk, by=user)
            elif action == "discard":
                service.discard(pk, by=user)
            elif action == "reprocess":
                service.reprocess(pk, by=user)
            else:
                messages.error(request, _("Unknown action."))
                return redirect(request.path)
        except service.HeldMailError as exc:
            messages.error(request, str(exc))
            return redirect(request.path)
        self.object.refresh_from_db()
        messages.success(request, self._done_message())
        return redirect(request.path)

    def _done_message(self) -> str:
        row = self.object
        if row.state == InboundState.HELD:
            return _("The mail is still held: %(reason)s") % {
                "reason": reason_label(row)
            }
        if row.ticket_id:
            return _("Done: %(state)s, ticket %(ticket)s.") % {
                "state": row.get_state_display(),
                "ticket": row.ticket.reference,
            }
        return _("Done: %(state)s.") % {"state": row.get_state_display()}


class HeldMailIndexView(snippet_views.IndexView):
    """The listing, titled like its menu item and counted in held mails
    (the model's verbose name is "incoming mail", of every state)."""

    page_title = TITLE
    paginator_class = counted_paginator(held_mail_count)

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return _("No held mail matches your search.")
        return _("No mail is held.")


class HeldMailViewSet(AgentsOnlyViewSet):
    """Register in the Help desk group: ``items = (…, HeldMailViewSet)``.

    A snippet viewset on :class:`InboundMail` listing held mail (sender,
    subject, reason, when) whose inspect view is :class:`HeldMailScreenView`.
    Rows are never edited or deleted through generic views: ``wagtail_hooks``
    registers ``ServiceWrittenPolicy`` for the model.
    """

    model = InboundMail
    icon = "warning"
    menu_label = TITLE
    menu_name = "vivadesk_held_mail"
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50
    index_view_class = HeldMailIndexView
    inspect_view_class = HeldMailScreenView
    inspect_template_name = "vivadesk_wagtail/staff/held_mail.html"
    #: The subject (title column) links to the review screen.
    list_display = [
        "subject",
        Column(
            "sender",
            label=gettext_lazy("Sender"),
            accessor=lambda row: row.sender or row.from_header[:120],
        ),
        Column("reason", label=gettext_lazy("Reason"), accessor=reason_label),
        Column(
            "ticket",
            label=gettext_lazy("Ticket"),
            accessor=lambda row: row.ticket.reference if row.ticket_id else "",
        ),
        DateColumn("received_at", label=gettext_lazy("Received"), sort_key="pk"),
    ]
    search_fields = ["subject", "sender", "from_header"]
    search_backend_name = None

    def get_queryset(self, request):
        return InboundMail.objects.held().select_related("ticket")
