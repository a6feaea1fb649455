"""The customer portal: "My requests", the ticket page and its actions.

Reads go through ``queries`` (scoped to the requesting customer, a miss is a
404); every change goes through ``services.tickets`` and only by POST with
CSRF. GET never changes a request (the ticket page only notes, through
``services.tickets``, when the customer saw it).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View
from django.views.decorators.http import require_http_methods, require_safe
from django.views.generic.base import TemplateResponseMixin

from .. import ratelimits
from ..adapter import get_adapter
from ..dates import local_datetime
from ..models import (
    OPEN_STATUSES,
    Channel,
    MessageKind,
    Ticket,
    TicketMessage,
    TicketStatus,
    ticket_answers,
)
from ..services import tickets as ticket_service
from . import queries
from .events import event_text, origin_text
from .files import FileLinks, all_attachments
from .forms import CommentForm, NewRequestForm, new_key, scoped_key

PER_PAGE = 25


def ticket_url(ticket: Ticket) -> str:
    return reverse("vivadesk_wagtail:ticket", args=[ticket.reference])


def _counts(user) -> dict:
    return Ticket.objects.for_customer(user).aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        done=Count("pk", filter=~Q(status__in=OPEN_STATUSES)),
        all=Count("pk"),
    )


@method_decorator([require_safe, login_required], name="dispatch")
class MyRequestsView(TemplateResponseMixin, View):
    """ "My requests": the customer's tickets, filtered and paginated."""

    template_name = "vivadesk_wagtail/portal/my_requests.html"
    paginate_by = PER_PAGE

    def get(self, request):
        listing = queries.Listing.from_params(request.GET)
        counts = _counts(request.user)
        tickets = queries.customer_tickets(request.user, listing)
        paginator = Paginator(tickets, self.paginate_by)
        if not listing.q:
            # The filter counts already tell the total: spare the COUNT query.
            paginator.count = counts[listing.state]
        page = paginator.get_page(request.GET.get("page"))
        filters = [
            (key, label, counts[key], listing.querystring(state=key))
            for key, label in (
                ("open", pgettext("requests filter", "Open")),
                ("done", _("Done and closed")),
                ("all", _("All")),
            )
        ]
        return self.render_to_response(
            {
                "listing": listing,
                "page_obj": page,
                "tickets": page.object_list,
                "filters": filters,
                "counts": counts,
                "page_query": listing.querystring(),
            }
        )


def _entry(message: TicketMessage, user, links: FileLinks, dom_id: str) -> dict:
    """What the thread shows of one message, ready to output: the template
    only prints these values (a page can have hundreds of messages)."""
    iso, when = local_datetime(message.created_at)
    entry = {
        "id": dom_id,
        "kind": message.kind,
        "datetime": iso,
        "when": when,
        "body": message.body,
    }
    if message.kind == MessageKind.EVENT:
        entry["event"] = event_text(message, user)
        return entry
    if message.kind == MessageKind.CUSTOMER:
        author = _("You") if message.author_id == user.pk else _("Customer")
    elif message.kind == MessageKind.AUTO:
        author = _("Automatic reply")
    else:
        author = _("VIVA HelpDesk")
    entry["author"] = author
    entry["attachments"] = [links.item(a) for a in message.files]
    entry["origin"] = origin_text(message)
    return entry


def _dom_ids(messages: list[TicketMessage]) -> dict[int, str]:
    """Element ids of the thread's messages; the last one is ``#latest``."""
    last = len(messages) - 1
    return {
        m.pk: "latest" if i == last else f"message-{m.pk}"
        for i, m in enumerate(messages)
    }


def _entries(messages: list[TicketMessage], user, links: FileLinks) -> list[dict]:
    """The public thread, oldest first."""
    ids = _dom_ids(messages)
    return [_entry(m, user, links, ids[m.pk]) for m in messages]


class TicketPageMixin(TemplateResponseMixin):
    """The ticket page: its thread and the comment form."""

    template_name = "vivadesk_wagtail/portal/ticket.html"
    form_class = CommentForm

    def render_ticket(self, ticket: Ticket, form=None, status: int = 200):
        user = self.request.user
        thread = list(queries.thread(ticket))
        links = FileLinks(ticket)
        entries = _entries(thread, user, links)
        attachments = all_attachments(thread, user, links, _dom_ids(thread))
        follows = ticket.follows
        if follows is not None and follows.customer_id != user.pk:
            follows = None
        closed = ticket.status == TicketStatus.CLOSED
        merged_into = _merged_into(ticket, user)
        context = {
            "ticket": ticket,
            "entries": entries,
            "attachments": attachments,
            "form_data": ticket_answers(ticket),
            "form": form or self.form_class(initial={"key": new_key()}),
            "closed": closed,
            "can_mark_done": ticket.is_open,
            "follows": follows,
            "merged_into": merged_into,
            # Only a closed ticket can be followed by a new one.
            "followed_by": list(queries.followed_by(user, ticket)) if closed else [],
        }
        return self.render_to_response(context, status=status)


def _merged_into(ticket: Ticket, user) -> Ticket | None:
    """The ticket this one was merged into, if the reader may open it (their
    own); a merge into another customer's ticket shows no pointer."""
    if not ticket.merged_into_id:
        return None
    return (
        Ticket.objects.for_customer(user)
        .filter(pk=ticket.merged_into_id)
        .only("reference", "subject")
        .first()
    )


def _closed_message(request, ticket: Ticket) -> None:
    messages.error(
        request,
        _(
            "This request is closed. Please open a new request; it will be "
            "linked to this one."
        ),
    )


class CommentMixin(TicketPageMixin):
    """A customer's comment; an invalid or rate-limited one shows the ticket
    page again with the form as typed."""

    def post(self, request, reference: str):
        ticket = queries.get_ticket(request.user, reference)
        if ticket.status == TicketStatus.CLOSED:
            _closed_message(request, ticket)
            return redirect(ticket_url(ticket))
        form = self.form_class(request.POST, request.FILES, customer=request.user)
        if not form.is_valid():
            messages.error(request, _("Your comment was not saved. Please check it."))
            return self.render_ticket(ticket, form)
        wait = ratelimits.portal_post_wait(request)
        if wait:
            _ask_to_wait(form)
            return _retry_after(self.render_ticket(ticket, form, status=429), wait)
        data = form.cleaned_data
        try:
            ticket_service.add_message(ticket, _customer_message(request, data))
        except ticket_service.TicketClosedError:
            _closed_message(request, ticket)
            return redirect(ticket_url(ticket))
        messages.success(request, _("Thank you! Your comment was added."))
        return redirect(ticket_url(ticket) + "#latest")


@method_decorator(
    [require_http_methods(["GET", "HEAD", "POST"]), login_required], name="dispatch"
)
class TicketView(CommentMixin, View):
    """The ticket page. Its comment form posts to the page itself, so a
    comment with mistakes comes back under the ticket's own address."""

    def get(self, request, reference: str):
        ticket = queries.get_ticket(request.user, reference)
        ticket_service.mark_seen_by_customer(ticket)
        return self.render_ticket(ticket)


@method_decorator(
    [require_http_methods(["GET", "HEAD", "POST"]), login_required], name="dispatch"
)
class CommentView(CommentMixin, View):
    """The comment address of earlier pages: a POST still adds the comment,
    a GET (a reload, a language switch) leads to the ticket page."""

    def get(self, request, reference: str):
        return redirect(ticket_url(queries.get_ticket(request.user, reference)))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def mark_done(request, reference: str):
    """ "My problem is solved": the GET asks to confirm (a page of its own,
    no script needed), the POST marks the ticket done."""
    ticket = queries.get_ticket(request.user, reference)
    if not ticket.is_open:
        return redirect(ticket_url(ticket))
    if request.method != "POST":
        return TemplateResponse(
            request, "vivadesk_wagtail/portal/mark_done.html", {"ticket": ticket}
        )
    try:
        ticket_service.change_status(ticket, TicketStatus.DONE, by=request.user)
    except (ticket_service.TicketClosedError, ticket_service.InvalidTransitionError):
        messages.error(request, _("The status of this request cannot be changed."))
    else:
        messages.success(
            request,
            _(
                "Thank you! The request is marked as solved. If the problem "
                "comes back, simply add a comment."
            ),
        )
    return redirect(ticket_url(ticket))


def _closed_ticket(user, reference: str) -> Ticket | None:
    """The customer's closed ticket a new request continues, if any."""
    if not queries.is_reference(reference):
        return None
    return (
        Ticket.objects.for_customer(user)
        .filter(reference=reference, status=TicketStatus.CLOSED)
        .first()
    )


@method_decorator(
    [require_http_methods(["GET", "HEAD", "POST"]), login_required], name="dispatch"
)
class NewRequestView(TemplateResponseMixin, View):
    """A new request; ``?follows=<reference>`` continues a closed ticket."""

    template_name = "vivadesk_wagtail/portal/new_request.html"
    form_class = NewRequestForm

    def get(self, request):
        follows = _closed_ticket(request.user, request.GET.get("follows", ""))
        initial = {"key": new_key()}
        if follows is not None:
            initial.update(follows=follows.reference, subject=follows.subject)
        return self.show(self.form_class(initial=initial), follows)

    def post(self, request):
        form = self.form_class(request.POST, request.FILES, customer=request.user)
        follows = _closed_ticket(request.user, request.POST.get("follows", ""))
        if not form.is_valid():
            messages.error(request, _("Your request was not sent. Please check it."))
            return self.show(form, follows)
        wait = ratelimits.portal_post_wait(request)
        if wait:
            _ask_to_wait(form)
            return _retry_after(self.show(form, follows, status=429), wait)
        ticket = _open(request, form.cleaned_data, follows)
        messages.success(
            request,
            _("Thank you! Your request %(reference)s was received.")
            % {"reference": ticket.reference},
        )
        return redirect(ticket_url(ticket))

    def show(self, form, follows, status: int = 200):
        context = {"form": form, "follows": follows}
        return self.render_to_response(context, status=status)


def _retry_after(response, seconds: int):
    response["Retry-After"] = str(seconds)
    return response


def _ask_to_wait(form) -> None:
    """The form comes back with the text as typed and this on top.

    Comments and new requests are counted per customer
    (``ratelimits.portal_post_wait``): over the limit the form comes back
    this way, with status 429 and ``Retry-After`` (:func:`_retry_after`).
    """
    form.add_error(
        None,
        _(
            "You have sent a lot of messages in a short time. Please wait a "
            "few minutes, then send this one again: your text is still here."
        ),
    )
    if form.cleaned_data.get("attachments"):
        form.add_error(None, _("Please choose your files again before sending."))


def _customer_message(request, data: dict) -> ticket_service.NewMessage:
    """What a customer's portal form (comment or new request) writes."""
    return ticket_service.NewMessage(
        body=data["body"],
        kind=MessageKind.CUSTOMER,
        channel=Channel.PORTAL,
        author=request.user,
        attachments=data["attachments"],
        idempotency_key=scoped_key(request.user, data["key"]),
    )


def _open(request, data: dict, follows: Ticket | None) -> Ticket:
    adapter = get_adapter(request)
    return ticket_service.open_ticket(
        customer=request.user,
        subject=data["subject"],
        first=_customer_message(request, data),
        language=translation.get_language() or "",
        category=adapter.new_ticket_category(request.user, Channel.PORTAL, None),
        follows=follows,
        acknowledge=adapter.acknowledge_new_ticket(request.user, Channel.PORTAL, True),
    )
