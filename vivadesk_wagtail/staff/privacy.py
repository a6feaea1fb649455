"""Data protection in the Wagtail admin: the register of customers' data
requests for the data-protection officer (:class:`DataRequestReportView`, a
report with spreadsheet export, no personal data), and an agent's erasure
of a customer's account (:class:`EraseCustomerView`, through
``services.data_requests``).
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.reports import ReportView
from wagtail.permission_policies import ModelPermissionPolicy

from .. import conf
from ..models import (
    DataRequest,
    DataRequestKind,
    DataRequestState,
    ErasureReason,
    Ticket,
)
from ..permissions import agent_required
from ..services import data_requests
from ..services.customers import is_placeholder, is_staff_user
from .columns import FastColumn, FastValueMixin
from .report_export import ReaderLanguageCsvMixin

#: The report's menu label and page title.
TITLE = gettext_lazy("Data-protection requests")
REGISTER_URL_NAME = "vivadesk_privacy_register"
REGISTER_RESULTS_URL_NAME = "vivadesk_privacy_register_results"
ERASE_URL_NAME = "vivadesk_erase_customer"

#: Who reads the register: superusers and holders of ``view_datarequest``
#: (a data-protection officer's group may be given it).
register_policy = ModelPermissionPolicy(DataRequest)


def may_read_register(user) -> bool:
    return register_policy.user_has_permission(user, "view")


#: Names of the counts an export (``privacy.export``) or an erasure
#: (``services.erasure``) records in its summary.
SUMMARY_LABELS = {
    "tickets": gettext_lazy("requests"),
    "tickets_anonymised": gettext_lazy("requests anonymised"),
    "tickets_deleted": gettext_lazy("requests deleted"),
    "messages": gettext_lazy("messages"),
    "attachments": gettext_lazy("files"),
    "mails": gettext_lazy("mails"),
    "outbox": gettext_lazy("outgoing mails"),
    "caught_posts": gettext_lazy("caught posts"),
    "mailbox_messages": gettext_lazy("mailbox copies"),
    "exports": gettext_lazy("exports"),
    "data_requests": gettext_lazy("data-protection requests"),
    "log_entries": gettext_lazy("log entries"),
}


def summary_counts(request: DataRequest) -> str:
    """The counts of what the work did, those above zero (``requests
    anonymised: 3, files: 2``); anything in the summary that is not a count
    is left out."""
    counts = [
        (str(SUMMARY_LABELS.get(key, key.replace("_", " "))), value)
        for key, value in (request.summary or {}).items()
        if isinstance(value, int) and not isinstance(value, bool) and value
    ]
    return ", ".join(f"{label}: {value}" for label, value in sorted(counts))


class DayColumn(FastValueMixin, Column):
    """The day of a date-time (the time in its ``title``), so the register's
    ten columns fit a desktop screen; the exports keep the time."""

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value is None:
            return format_html("<td>{}</td>", "–")
        local = timezone.localtime(value)
        return format_html(
            '<td><time datetime="{}" title="{}">{}</time></td>',
            local.isoformat(),
            date_format(local, "SHORT_DATETIME_FORMAT"),
            date_format(local, "SHORT_DATE_FORMAT"),
        )


class DataRequestFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Kind"),
        choices=DataRequestKind.choices,
        empty_label=gettext_lazy("All"),
    )
    state = django_filters.ChoiceFilter(
        label=gettext_lazy("State"),
        choices=DataRequestState.choices,
        empty_label=gettext_lazy("All"),
    )
    created_at = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Requested"), widget=DateRangePickerWidget
    )

    class Meta:
        model = DataRequest
        fields = ["kind", "state", "created_at"]


class DataRequestReportView(ReaderLanguageCsvMixin, ReportView):
    """The register: one row per request, without the customer (neither
    name nor address nor a link), in one query for the page's rows."""

    page_title = TITLE
    header_icon = "lock"
    model = DataRequest
    permission_policy = register_policy
    permission_required = "view"
    filterset_class = DataRequestFilterSet
    index_url_name = REGISTER_URL_NAME
    index_results_url_name = REGISTER_RESULTS_URL_NAME
    default_ordering = "-created_at"
    verbose_name_plural = gettext_lazy("data-protection requests")
    columns = [
        FastColumn("pk", label=gettext_lazy("Number")),
        FastColumn("kind", label=gettext_lazy("Kind"), accessor="get_kind_display"),
        FastColumn(
            "requested_by",
            label=gettext_lazy("Requested by"),
            accessor="get_requested_by_display",
        ),
        FastColumn(
            "reason", label=gettext_lazy("Reason"), accessor="get_reason_display"
        ),
        FastColumn("state", label=gettext_lazy("State"), accessor="get_state_display"),
        DayColumn("created_at", label=gettext_lazy("Requested"), sort_key="created_at"),
        DayColumn("confirmed_at", label=gettext_lazy("Confirmed")),
        DayColumn("due_at", label=gettext_lazy("Due"), sort_key="due_at"),
        DayColumn("completed_at", label=gettext_lazy("Completed")),
        FastColumn("summary", label=gettext_lazy("Summary"), accessor=summary_counts),
    ]
    list_export = [
        "pk",
        "get_kind_display",
        "get_requested_by_display",
        "get_reason_display",
        "get_state_display",
        "created_at",
        "confirmed_at",
        "due_at",
        "completed_at",
        "summary_counts",
    ]
    export_headings = {
        "pk": gettext_lazy("Number"),
        "get_kind_display": gettext_lazy("Kind"),
        "get_requested_by_display": gettext_lazy("Requested by"),
        "get_reason_display": gettext_lazy("Reason"),
        "get_state_display": gettext_lazy("State"),
        "created_at": gettext_lazy("Requested"),
        "confirmed_at": gettext_lazy("Confirmed"),
        "due_at": gettext_lazy("Due"),
        "completed_at": gettext_lazy("Completed"),
        "summary_counts": gettext_lazy("Summary"),
    }

    def get_base_queryset(self):
        # Only the register's own columns: the customer is never loaded.
        return DataRequest.objects.only(
            "pk",
            "kind",
            "state",
            "requested_by",
            "reason",
            "created_at",
            "confirmed_at",
            "due_at",
            "completed_at",
            "summary",
        )

    def order_queryset(self, queryset):
        # The newest first among equal dates, so pages do not overlap.
        ordering = self.ordering or "-created_at"
        return queryset.order_by(ordering, "-pk")

    def to_row_dict(self, item):
        item.summary_counts = summary_counts(item)
        return super().to_row_dict(item)

    def get_filename(self):
        return "data-protection-requests-{}".format(
            datetime.date.today().strftime("%Y-%m-%d")
        )


class RegisterMenuItem(MenuItem):
    def is_shown(self, request):
        return may_read_register(request.user)


def register_menu_item() -> MenuItem:
    """A ``register_reports_menu_item`` hook: the register in Reports."""
    return RegisterMenuItem(
        TITLE,
        reverse(REGISTER_URL_NAME),
        name="data-protection-requests",
        icon_name="lock",
        order=1100,
    )


class EraseCustomerForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=ErasureReason.choices,
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I have checked that this is the right account and that it may be deleted."
        ),
    )


class EraseCustomerView(WagtailAdminTemplateMixin, FormView):
    """What an erasure does, a reason and a confirmation; the POST schedules
    it (``data_requests.schedule_erasure_by_agent``). A GET changes nothing;
    staff accounts and accounts already scheduled get a notice, no form."""

    template_name = "vivadesk_wagtail/staff/erase_customer.html"
    form_class = EraseCustomerForm
    page_title = gettext_lazy("Delete customer account")
    header_icon = "bin"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.customer = get_object_or_404(get_user_model(), pk=kwargs["pk"])

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def back_url(self) -> str:
        """Where the agent came from (``next``), else the ticket listing."""
        target = self.request.POST.get("next") or self.request.GET.get("next", "")
        if url_has_allowed_host_and_scheme(
            target,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        ):
            return target
        return reverse("wagtailsnippets_vivadesk_wagtail_ticket:list")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        grace = conf.get("ERASURE_GRACE_PERIOD")
        context.update(
            customer=self.customer,
            customer_name=self.customer.get_full_name(),
            is_staff_account=is_staff_user(self.customer),
            scheduled=data_requests.scheduled_erasure(self.customer),
            ticket_count=Ticket.objects.filter(customer=self.customer).count(),
            grace_days=grace.days,
            erase_on=timezone.now() + grace,
            delete_tickets=conf.get("ERASURE_TICKETS") == "delete",
            back_url=self.back_url(),
        )
        return context

    def form_valid(self, form):
        try:
            request = data_requests.schedule_erasure_by_agent(
                self.customer,
                agent=self.request.user,
                reason=form.cleaned_data["reason"],
            )
        except data_requests.NotACustomer:
            form.add_error(
                None,
                _(
                    "This is a staff account. Staff accounts are not deleted "
                    "through the help desk."
                ),
            )
            return self.form_invalid(form)
        except data_requests.ErasureAlreadyScheduled:
            messages.warning(
                self.request,
                _("This account's deletion is already scheduled; nothing changed."),
            )
            return redirect(self.back_url())
        messages.success(
            self.request,
            _(
                "The account is deactivated and will be deleted on %(date)s. "
                "The customer has been informed by mail."
            )
            % {"date": erasure_date(request)},
        )
        return redirect(self.back_url())


def customer_erasure_context(customer, back_url: str) -> dict:
    """For the ticket screen's customer box: the scheduled erasure (its
    date shown) and, for a customer account, the link to the erase page."""
    if customer is None or is_staff_user(customer) or is_placeholder(customer):
        return {"customer_erasure": None, "erase_url": ""}
    url = reverse(ERASE_URL_NAME, args=(customer.pk,))
    return {
        "customer_erasure": data_requests.scheduled_erasure(customer),
        "erase_url": f"{url}?{urlencode({'next': back_url})}",
    }


def erasure_date(request: DataRequest) -> str:
    return date_format(timezone.localtime(request.due_at), "DATE_FORMAT")


def admin_urls() -> list:
    """A ``register_admin_urls`` hook: the register and the erase page."""
    return [
        path(
            "reports/data-protection/",
            DataRequestReportView.as_view(),
            name=REGISTER_URL_NAME,
        ),
        path(
            "reports/data-protection/results/",
            DataRequestReportView.as_view(results_only=True),
            name=REGISTER_RESULTS_URL_NAME,
        ),
        path(
            "helpdesk/customers/<int:pk>/erase/",
            agent_required(EraseCustomerView.as_view()),
            name=ERASE_URL_NAME,
        ),
    ]
