"""Merging a ticket into another from the ticket screen (agents only).

The page (:class:`MergeView`) takes the target by its Ticket ID, shows both
tickets side by side and merges on a confirming POST through
``services.merge``; a GET never changes anything. The ticket screen shows
the pointers both ways (``_merge_notice.html``, :func:`screen_context`).
"""

from __future__ import annotations

from django import forms
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..mail.threading import subject_references
from ..models import Ticket, TicketStatus
from ..services import merge as merge_service
from ..services.tickets import format_reference
from .statuses import status_label

URL_NAME = "merge"
INSPECT = "wagtailsnippets_vivadesk_wagtail_ticket:inspect"


def refusal_text(error: merge_service.MergeError) -> str:
    """What the agent reads when the rules refuse a merge."""
    texts = {
        "same": _("A ticket cannot be merged into itself."),
        "closed": _("%(ticket)s is closed; closed tickets cannot be merged."),
        "merged": _("%(ticket)s has already been merged into another ticket."),
        "cycle": _("%(ticket)s was merged into this ticket; it cannot be its target."),
        "other_customer": _(
            "The tickets belong to different customers: please confirm that "
            "the customer of %(ticket)s may read this ticket's messages."
        ),
    }
    text = texts.get(error.code, _("These tickets cannot be merged."))
    return text % {"ticket": str(error)} if "%(ticket)s" in text else text


def find_target(text: str) -> Ticket | None:
    """The ticket an agent means by ``text``: a Ticket ID (any case, with or
    without brackets) or its number alone."""
    text = (text or "").strip()
    references = subject_references(text)
    if not references and text.isdigit() and len(text) <= 18:
        references = [format_reference(int(text))]
    if not references:
        return None
    return (
        Ticket.objects.select_related("customer")
        .filter(reference=references[0])
        .first()
    )


class MergeForm(forms.Form):
    target = forms.CharField(
        label=gettext_lazy("Ticket ID of the ticket to merge into"),
        max_length=40,
        help_text=gettext_lazy("For example VIVA-1042, or just the number."),
    )
    confirm_other_customer = forms.BooleanField(
        label=gettext_lazy(
            "I have checked it: the customer of the target ticket will see this "
            "ticket's messages, attachments and form data."
        ),
        required=False,
    )

    def clean_target(self) -> Ticket:
        ticket = find_target(self.cleaned_data["target"])
        if ticket is None:
            raise forms.ValidationError(_("There is no ticket with this Ticket ID."))
        return ticket


def summary(ticket: Ticket) -> dict:
    """One side of the comparison."""
    return {
        "ticket": ticket,
        "customer": ticket.customer.get_full_name() or ticket.customer.email,
        "email": ticket.customer.email,
        "status_label": status_label(ticket.status),
        "messages": ticket.messages.count(),
        "url": reverse(INSPECT, args=[ticket.pk]),
    }


class MergeView(WagtailAdminTemplateMixin, TemplateView):
    """Choose the target (GET with ``target``), compare, confirm (POST)."""

    template_name = "vivadesk_wagtail/staff/merge.html"
    page_title = gettext_lazy("Merge ticket")
    header_icon = "resubmit"
    http_method_names = ["get", "post"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.source = get_object_or_404(
            Ticket.objects.select_related("customer"), pk=kwargs["pk"]
        )

    def get_page_subtitle(self):
        return str(self.source)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(INSPECT, args=[self.source.pk]), "label": str(self.source)},
            {"url": "", "label": self.page_title},
        ]

    def get(self, request, *args, **kwargs):
        form = MergeForm(request.GET if "target" in request.GET else None)
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        form = MergeForm(request.POST)
        if form.is_valid():
            target = form.cleaned_data["target"]
            try:
                merge_service.merge(
                    self.source,
                    target,
                    by=request.user,
                    confirmed_other_customer=form.cleaned_data[
                        "confirm_other_customer"
                    ],
                )
            except merge_service.MergeError as error:
                messages.error(request, refusal_text(error))
                self.source.refresh_from_db()
            else:
                messages.success(
                    request,
                    _("%(source)s was merged into %(target)s.")
                    % {"source": self.source.reference, "target": target.reference},
                )
                return redirect(INSPECT, target.pk)
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(**kwargs)
        source_refusal = self._refusal(self.source, None)
        target = form.cleaned_data["target"] if form.is_valid() else None
        context.update(
            form=form,
            source=summary(self.source),
            source_refusal=source_refusal,
            target=summary(target) if target else None,
            refusal=self._refusal(self.source, target) if target else "",
            other_customer=bool(target)
            and target.customer_id != self.source.customer_id,
            suggestions=[] if target else merge_service.suggestions(self.source),
            back_url=reverse(INSPECT, args=[self.source.pk]),
        )
        return context

    @staticmethod
    def _refusal(source: Ticket, target: Ticket | None) -> str:
        """Why the merge cannot be done, other customers aside (the form
        asks for that confirmation); "" if it can. Without a target: why
        ``source`` cannot be merged at all."""
        if target is None:
            if source.merged_into_id:
                return refusal_text(merge_service.AlreadyMergedError(source.reference))
            if source.status == TicketStatus.CLOSED:
                return refusal_text(merge_service.TicketClosedError(source.reference))
            return ""
        try:
            merge_service.check(source, target, confirmed_other_customer=True)
        except merge_service.MergeError as error:
            return refusal_text(error)
        return ""


def urlpatterns(viewset) -> list:
    """This part's URLs under the tickets viewset (agents only)."""
    return [path("<int:pk>/merge/", MergeView.as_view(), name=URL_NAME)]


def merge_url(ticket: Ticket) -> str:
    return reverse(
        f"wagtailsnippets_vivadesk_wagtail_ticket:{URL_NAME}", args=[ticket.pk]
    )


def screen_context(view) -> dict:
    """What the ticket screen shows of this part: where the ticket was
    merged into, and which tickets were merged into it."""
    ticket = view.object
    merged_into = None
    if ticket.merged_into_id:
        merged_into = Ticket.objects.filter(pk=ticket.merged_into_id).first()
    merged_from = list(
        Ticket.objects.filter(merged_into=ticket).only("pk", "reference", "subject")
    )
    return {"merged_into": merged_into, "merged_from": merged_from}


def may_merge(ticket: Ticket) -> bool:
    """The ticket screen offers "Merge…" for a ticket that may be merged."""
    return not ticket.merged_into_id and ticket.status != TicketStatus.CLOSED
