"""Tickets, their categories and the counter that numbers them.

Ticket fields are written only by ``vivadesk_wagtail.services.tickets``.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.search import index

from ..languages import LanguageDisplayMixin


def new_ticket_secret() -> str:
    return secrets.token_urlsafe(24)


class TicketStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status", "New")
    OPEN = "open", pgettext_lazy("ticket status", "In progress")
    WAITING = "waiting", pgettext_lazy("ticket status", "Waiting for your reply")
    DONE = "done", pgettext_lazy("ticket status", "Done")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


#: Statuses in which the help desk still works on a ticket.
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)


class Channel(models.TextChoices):
    WEB = "web", _("Contact form")
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("E-mail")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")


class Category(models.Model):
    """A topic tickets are filed under (set by the contact page or by staff)."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class TicketCounter(models.Model):
    """One row per counter, seeded by a migration and incremented under a row
    lock, so concurrent requests never get the same ticket number."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket counter")

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class TicketQuerySet(models.QuerySet):
    def for_customer(self, user) -> TicketQuerySet:
        """The tickets a customer may see: always scope portal lookups with it."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(customer=user)

    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(LanguageDisplayMixin, index.Indexed, models.Model):
    number = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    reference = models.CharField(
        _("reference"), max_length=32, unique=True, editable=False
    )
    subject = models.CharField(_("subject"), max_length=255)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="helpdesk_tickets",
        # The index on (customer, status, updated_at) serves lookups by customer.
        db_index=False,
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=TicketStatus.choices,
        default=TicketStatus.NEW,
        db_index=True,
    )
    language = models.CharField(_("language"), max_length=12, blank=True)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    #: The contact page (the language version) the request was sent from;
    #: the request type agents filter by. Mail and staff tickets have none.
    contact_page = models.ForeignKey(
        "vivadesk_wagtail.ContactPage",
        verbose_name=_("contact page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: The privacy notice the visitor saw under the contact form (GDPR
    #: consent record); ``None`` for mail and staff tickets.
    privacy_notice = models.ForeignKey(
        "vivadesk_wagtail.PrivacyNoticeVersion",
        verbose_name=_("privacy notice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_helpdesk_tickets",
        # The index on (assignee, status) serves lookups by assignee.
        db_index=False,
    )
    #: Extra fields of the contact form: a list of ``{"label", "value"}`` as
    #: they read when the customer submitted them.
    form_data = models.JSONField(_("form data"), default=list, blank=True)
    #: Secret mixed into reply tokens and our Message-IDs for this ticket.
    secret = models.CharField(max_length=64, default=new_ticket_secret, editable=False)
    #: The closed ticket this one continues (a reply after the final close).
    follows = models.ForeignKey(
        "self",
        verbose_name=_("follows"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followed_by",
    )
    #: The ticket this one was merged into (``services.merge``); it is
    #: closed, and mail about it lands on that ticket.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tickets",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
    #: Last message from the customer; "waiting for us since" in the listing.
    customer_activity_at = models.DateTimeField(
        _("last customer activity"), null=True, blank=True
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True, db_index=True)
    #: When the customer last opened the ticket page in the portal: a public
    #: staff reply after it is "new" in "My requests".
    customer_seen_at = models.DateTimeField(
        _("seen by the customer"), null=True, blank=True, editable=False
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    #: When the ticket last became done (kept when it closes, cleared when
    #: it reopens): "resolved" in the reports.
    resolved_at = models.DateTimeField(
        _("resolved"), null=True, blank=True, db_index=True
    )

    # Service targets, kept by ``services.service_targets`` (business hours).
    #: The first public staff reply.
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    first_response_due = models.DateTimeField(
        _("first response due"), null=True, blank=True
    )
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    #: The earliest due time still pending (first response, else resolution);
    #: empty while the clock is paused or no target applies. The listing's
    #: "overdue" and "due soon" filters and the warning read it.
    next_due = models.DateTimeField(_("due"), null=True, blank=True)
    #: Since when the clock stands still (waiting for the customer, done).
    targets_paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: Business minutes the clock stood still before the pause under way.
    targets_paused_minutes = models.PositiveIntegerField(default=0, editable=False)
    #: Business minutes from opening to the first response, and to the
    #: resolution (pauses excluded), for the reports.
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    first_response_breached = models.BooleanField(
        _("first response target missed"), default=False
    )
    resolution_breached = models.BooleanField(
        _("resolution target missed"), default=False
    )
    #: The notices before a breach went out (once per target).
    first_response_warned = models.BooleanField(default=False, editable=False)
    resolution_warned = models.BooleanField(default=False, editable=False)

    objects = TicketQuerySet.as_manager()

    #: Indexed in batches by ``services.search_index`` (a schedule), not on
    #: every save: a ticket changes with each message, and re-indexing reads
    #: its whole thread.
    search_auto_update = False
    #: Nothing refers to a ticket through Wagtail's reference index (usage
    #: counts of pages, images, snippets), so its saves skip that bookkeeping.
    wagtail_reference_index_ignore = True

    search_fields = [
        index.SearchField("reference", boost=5),
        index.SearchField("subject", boost=2),
        index.AutocompleteField("subject"),
        index.RelatedFields(
            "customer",
            [
                index.SearchField("email"),
                index.SearchField("first_name"),
                index.SearchField("last_name"),
            ],
        ),
        index.RelatedFields("messages", [index.SearchField("body")]),
        index.FilterField("status"),
        index.FilterField("assignee_id"),
        index.FilterField("category_id"),
        index.FilterField("customer_id"),
    ]

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["customer", "status", "updated_at"]),
            # "Mine" in the agents' listing (and its count).
            models.Index(fields=["assignee", "status"]),
            # The agents' default listing: open tickets, oldest waiting first.
            models.Index(
                Coalesce("customer_activity_at", "created_at"),
                F("id"),
                name="vivadesk_ticket_waiting_idx",
                condition=Q(status__in=["new", "open", "waiting"]),
            ),
            # "Overdue" and "due soon" in the agents' listing.
            models.Index(
                fields=["next_due"],
                name="vivadesk_ticket_next_due_idx",
                condition=Q(status__in=["new", "open", "waiting"]),
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.reference}] {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_waiting_for_customer(self) -> bool:
        return self.status == TicketStatus.WAITING


class SearchIndexMark(models.Model):
    """How far the batched search indexing of a model has got: tickets
    changed since ``indexed_until`` (less an overlap) are indexed next."""

    name = models.CharField(max_length=32, primary_key=True)
    indexed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("search index mark")

    def __str__(self) -> str:
        return f"{self.name}: {self.indexed_until}"
