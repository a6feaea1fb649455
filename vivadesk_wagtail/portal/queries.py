"""Read-side queries of the portal, always scoped to the requesting customer.

Every lookup starts from ``Ticket.objects.for_customer(user)``; a reference
the customer does not own is simply "not found" (404), whoever owns it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)
from django.http import Http404, QueryDict

from ..models import (
    OPEN_STATUSES,
    PUBLIC_KINDS,
    MessageKind,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)
from ..permissions import is_agent
from ..search_terms import plain_text

#: Listing filters: parameter value → statuses (``None`` = every status).
FILTERS = {
    "open": OPEN_STATUSES,
    "done": (TicketStatus.DONE, TicketStatus.CLOSED),
    "all": None,
}
#: Listing orders after "open ones first": parameter value → ORM ordering.
SORTS = {
    "updated": ("-updated_at", "-pk"),
    "created": ("-created_at", "-pk"),
}
#: What a ticket reference can look like (any prefix setting); anything else
#: is not looked up at all (PostgreSQL refuses NUL bytes, for one).
REFERENCE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,15}-[0-9]{1,15}$")
DEFAULT_FILTER = "all"
DEFAULT_SORT = "updated"
MAX_QUERY_LENGTH = 200


@dataclass
class Listing:
    """The cleaned parameters of "My requests"; unknown values fall back to
    the defaults, unknown parameters are ignored."""

    state: str = DEFAULT_FILTER
    sort: str = DEFAULT_SORT
    q: str = ""

    @classmethod
    def from_params(cls, params: QueryDict) -> Listing:
        state = params.get("state", DEFAULT_FILTER)
        sort = params.get("sort", DEFAULT_SORT)
        q = plain_text(params.get("q", ""), max_length=MAX_QUERY_LENGTH)
        return cls(
            state=state if state in FILTERS else DEFAULT_FILTER,
            sort=sort if sort in SORTS else DEFAULT_SORT,
            q=q,
        )

    def querystring(self, **changes) -> str:
        """Parameters that differ from the defaults, for links and pages."""
        values = {"state": self.state, "sort": self.sort, "q": self.q, **changes}
        defaults = {"state": DEFAULT_FILTER, "sort": DEFAULT_SORT, "q": ""}
        query = QueryDict(mutable=True)
        for key, value in values.items():
            if value and value != defaults.get(key):
                query[key] = value
        return query.urlencode()


def customer_tickets(user, listing: Listing):
    """The customer's tickets for "My requests": open ones first."""
    tickets = Ticket.objects.for_customer(user)
    statuses = FILTERS[listing.state]
    if statuses is not None:
        tickets = tickets.filter(status__in=statuses)
    if listing.q:
        in_messages = TicketMessage.objects.filter(
            ticket=OuterRef("pk"), kind__in=PUBLIC_KINDS, body__icontains=listing.q
        )
        tickets = tickets.filter(
            Q(subject__icontains=listing.q)
            | Q(reference__iexact=listing.q)
            | Exists(in_messages)
        )
    return (
        tickets.annotate(
            closed_rank=Case(
                When(status__in=OPEN_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            new_reply=new_reply(),
        )
        .only("reference", "subject", "status", "updated_at", "created_at")
        .order_by("closed_rank", *SORTS[listing.sort])
    )


def new_reply():
    """Whether a staff reply came after the customer last opened the ticket
    page (``Ticket.customer_seen_at``; never opened: any staff reply)."""
    replies = TicketMessage.objects.filter(
        ticket=OuterRef("pk"), kind=MessageKind.STAFF
    )
    return Case(
        When(customer_seen_at__isnull=True, then=Exists(replies)),
        default=Exists(replies.filter(created_at__gt=OuterRef("customer_seen_at"))),
        output_field=BooleanField(),
    )


def is_reference(value: str) -> bool:
    return bool(value) and REFERENCE_RE.match(value) is not None


def get_ticket(user, reference: str) -> Ticket:
    """The customer's ticket by reference, or 404 (never telling why)."""
    if not is_reference(reference):
        raise Http404()
    ticket = (
        Ticket.objects.for_customer(user)
        .select_related("follows")
        .filter(reference=reference)
        .first()
    )
    if ticket is None:
        raise Http404()
    return ticket


def thread(ticket: Ticket):
    """The public thread in order: never internal notes. Each message comes
    with its attachments as the list ``files`` (two queries in all); what the
    page does not show (mail HTML, file paths, hashes) is not loaded."""
    files = TicketAttachment.objects.only(
        "message_id", "original_name", "size", "content_type", "sha256"
    )
    return (
        TicketMessage.objects.public()
        .filter(ticket=ticket)
        .only(
            "kind",
            "author_id",
            "body",
            "event",
            "created_at",
            "channel",
            "sender_verified",
        )
        .prefetch_related(Prefetch("attachments", queryset=files, to_attr="files"))
        .order_by("created_at", "pk")
    )


def followed_by(user, ticket: Ticket):
    return (
        Ticket.objects.for_customer(user)
        .filter(follows=ticket)
        .only("reference", "subject")
    )


def downloadable_attachment(user, reference: str, pk: int) -> TicketAttachment:
    """An attachment of a public message of a ticket the user may read:
    the ticket's customer, or a help-desk agent. Anything else is a 404."""
    if not is_reference(reference):
        raise Http404()
    attachments = TicketAttachment.objects.select_related("ticket").filter(
        pk=pk, ticket__reference=reference
    )
    if not is_agent(user):
        attachments = attachments.filter(
            ticket__in=Ticket.objects.for_customer(user),
            message__kind__in=PUBLIC_KINDS,
        )
    attachment = attachments.first()
    if attachment is None:
        raise Http404()
    return attachment
