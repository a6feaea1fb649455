"""The ticket screen, its history and attachment downloads (Wagtail admin)."""

from __future__ import annotations

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages
from wagtail.admin.widgets.button import HeaderButton
from wagtail.snippets.views import snippets as snippet_views

from ..models import (
    CustomerProfile,
    InboundMail,
    OutboundEmail,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
    ticket_answers,
)
from ..permissions import is_agent
from ..services import customers
from ..services.tickets import InvalidTransitionError, TicketClosedError
from . import collision, merge, satisfaction, targets, text_modules
from .forms import ACTION_FORMS, MessageForm, display_name
from .privacy import customer_erasure_context
from .statuses import status_label
from .thread import thread_items

#: How many other tickets of the customer the header lists.
OTHER_TICKETS = 20

#: The parts of the ticket screen with a module of their own; each adds to
#: the context through ``screen_context(view)`` (and a template include).
SCREEN_PARTS = (collision, merge, targets, satisfaction, text_modules)


class AgentRequiredMixin:
    """Only agents (see ``permissions.is_agent``) get past ``dispatch``."""

    def dispatch(self, request, *args, **kwargs):
        if not is_agent(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class TicketScreenView(AgentRequiredMixin, snippet_views.InspectView):
    """Header, thread, form data and the action forms of one ticket.

    The screen replaces the snippet's generic inspect view at the same URL
    (``wagtailsnippets_vivadesk_wagtail_ticket:inspect``), so links in staff
    mail keep working. Every action is a POST of one form from ``forms.py``,
    applied through ``services.tickets``; the generic edit view stays closed
    (see ``permissions.ServiceWrittenPolicy``).
    """

    any_permission_required = ["view"]
    page_title = gettext_lazy("Ticket")
    #: URL names the viewset passes in (``TicketViewSet.get_inspect_view_kwargs``).
    history_url_name = None
    attachment_url_name = None
    raw_mail_url_name = None

    def get_object(self, queryset=None):
        return get_object_or_404(
            Ticket.objects.select_related(
                "customer",
                "assignee",
                "category",
                "follows",
                "contact_page",
                "privacy_notice",
            ),
            pk=self.pk,
        )

    def get_page_subtitle(self):
        return str(self.object)

    @cached_property
    def header_buttons(self):
        buttons = []
        if self.history_url_name:
            url = reverse(self.history_url_name, args=(quote(self.object.pk),))
            buttons.append(HeaderButton(_("History"), url=url, icon_name="history"))
        return buttons

    @cached_property
    def header_more_buttons(self):
        buttons = []
        if merge.may_merge(self.object):
            buttons.append(
                HeaderButton(
                    _("Merge…"), url=merge.merge_url(self.object), icon_name="resubmit"
                )
            )
        return buttons

    def get_fields(self):
        return []

    def screen_url(self) -> str:
        return self.request.path

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        form_class = ACTION_FORMS.get(action)
        if form_class is None:
            messages.error(request, _("Unknown action."))
            return redirect(self.screen_url())
        form = form_class(
            request.POST, request.FILES, ticket=self.object, prefix=action
        )
        if form.is_valid() and self._apply(form):
            messages.success(request, form.success_message)
            return redirect(self.screen_url())
        return self.render_to_response(self.get_context_data(bound={action: form}))

    def _apply(self, form) -> bool:
        """Run the form's service call; refusals become form errors. A
        reply or note is not sent over unseen messages (``collision``)."""
        try:
            with collision.unless_stale(self.request, form):
                form.apply(self.object, self.request.user)
        except collision.StaleForm:
            return False
        except TicketClosedError:
            form.add_error(
                None,
                _(
                    "This ticket was closed in the meantime; nothing was sent. "
                    "Its customer can open a new request, which will link to it."
                ),
            )
        except InvalidTransitionError:
            form.add_error(
                None, _("The ticket's status has changed; please check and retry.")
            )
        except IntegrityError:
            # Two submits of one form raced; the first one created the message.
            if not self._already_done(form):
                raise
            return True
        else:
            return True
        messages.error(self.request, form.non_field_errors()[0])
        return False

    def _already_done(self, form) -> bool:
        return isinstance(form, MessageForm) and (
            TicketMessage.objects.filter(idempotency_key=form.service_key()).exists()
        )

    def get_forms(self, bound=None) -> dict:
        forms = {
            name: form_class(ticket=self.object, prefix=name)
            for name, form_class in ACTION_FORMS.items()
        }
        forms["assign"].initial = {"assignee": self.object.assignee_id}
        forms["category"].initial = {"category": self.object.category_id}
        forms.update(bound or {})
        return forms

    def get_context_data(self, bound=None, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = self.object
        context.update(
            ticket=ticket,
            profile=CustomerProfile.objects.filter(user_id=ticket.customer_id).first(),
            customer_name=ticket.customer.get_full_name(),
            form_answers=ticket_answers(ticket),
            assignee_name=display_name(ticket.assignee),
            status_label=status_label(ticket.status),
            other_tickets=self.other_tickets(),
            thread=thread_items(ticket),
            forms=self.get_forms(bound),
            is_closed=ticket.status == TicketStatus.CLOSED,
            attachment_url_name=self.attachment_url_name,
            raw_mail_url_name=self.raw_mail_url_name,
        )
        context.update(customer_erasure_context(ticket.customer, self.screen_url()))
        context["newest_message_id"] = collision.newest_id(context["thread"])
        for part in SCREEN_PARTS:
            context.update(part.screen_context(self))
        return context

    def other_tickets(self):
        """The customer's latest other tickets, each with ``status_label``
        (none for anonymised tickets: they share one placeholder account)."""
        if customers.is_placeholder(self.object.customer):
            return []
        others = list(
            Ticket.objects.filter(customer_id=self.object.customer_id)
            .exclude(pk=self.object.pk)
            .order_by("-created_at")[:OTHER_TICKETS]
        )
        for other in others:
            other.status_label = status_label(other.status)
        return others


class TicketHistoryView(AgentRequiredMixin, snippet_views.HistoryView):
    """The audit log of a ticket; readable by agents (``view``), since
    tickets have no edit view to link to."""

    any_permission_required = ["view"]
    inspect_url_name = None

    def get_edit_url(self, instance):
        if self.inspect_url_name:
            return reverse(self.inspect_url_name, args=(quote(instance.pk),))
        return None

    @cached_property
    def header_buttons(self):
        url = self.get_edit_url(self.object)
        if not url:
            return []
        return [HeaderButton(_("Ticket"), url=url, icon_name="help")]


def download_attachment(request, pk):
    """Serve one attachment to an agent: always as a download, never rendered
    by the browser (``nosniff``, a sandboxing CSP)."""
    if not is_agent(request.user):
        raise PermissionDenied
    attachment = get_object_or_404(TicketAttachment, pk=pk)
    return _download(
        attachment.file,
        attachment.original_name,
        attachment.content_type or "application/octet-stream",
    )


def download_raw_mail(request, pk):
    """The original mail (RFC 822 source) a ticket message came from."""
    if not is_agent(request.user):
        raise PermissionDenied
    row = get_object_or_404(
        InboundMail.objects.select_related("ticket"), pk=pk, ticket__isnull=False
    )
    if not row.raw:
        raise Http404
    return _download(row.raw, f"{row.ticket.reference}-{row.pk}.eml", "message/rfc822")


def _download(field_file, filename: str, content_type: str) -> FileResponse:
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def refuse_bulk_delete(request, objects):
    """``before_delete_snippet`` hook: Wagtail's generic bulk delete (whose
    confirmation page lists titles) is no way into help-desk rows for anybody
    but agents; and tickets and mail are never deleted there."""
    match = request.resolver_match
    app_label = match.kwargs.get("app_label") if match else None
    if app_label == Ticket._meta.app_label and not is_agent(request.user):
        return HttpResponseForbidden()
    if any(isinstance(obj, Ticket | OutboundEmail | InboundMail) for obj in objects):
        return HttpResponseForbidden()
    return None
