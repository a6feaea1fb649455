"""The help desk's service reports in Wagtail's Reports menu, for agents:
the service report (per ISO week: tickets opened and resolved, median
first-response and resolution times in business hours, missed targets,
ratings; with a chart) and the backlog (open tickets by status, category
and assignee). Both export CSV and XLSX; the figures come from
``staff.report_queries``.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, pgettext, pgettext_lazy
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, Table
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets.button import HeaderButton

from ..models import Ticket, TicketStatus
from ..permissions import agents_only, is_agent
from . import report_queries
from .report_chart import weekly_chart
from .report_export import ReaderLanguageCsvMixin

SERVICE_TITLE = gettext_lazy("Service report")
BACKLOG_TITLE = gettext_lazy("Backlog")
SERVICE_URL_NAME = "vivadesk_service_report"
SERVICE_RESULTS_URL_NAME = "vivadesk_service_report_results"
BACKLOG_URL_NAME = "vivadesk_backlog_report"
BACKLOG_RESULTS_URL_NAME = "vivadesk_backlog_report_results"


def week_label(row) -> str:
    """``W48/2026`` (German ``KW 48/2026``), or "Total" for the totals."""
    if row.is_total:
        return gettext("Total")
    year, week = row.iso_week
    return pgettext("ISO calendar week", "W%(week)02d/%(year)s") % {
        "week": week,
        "year": year,
    }


def week_dates(row) -> str:
    """The week's Monday to Sunday, as a short date range."""
    return "{} – {}".format(
        date_format(row.start, "SHORT_DATE_FORMAT"),
        date_format(row.start + timedelta(days=6), "SHORT_DATE_FORMAT"),
    )


class WeekColumn(Column):
    """The row's week as a row heading; its dates in a tooltip."""

    def render_cell_html(self, instance, parent_context):
        if instance.is_total:
            return format_html('<th scope="row">{}</th>', week_label(instance))
        return format_html(
            '<th scope="row"><span title="{}">{}</span></th>',
            week_dates(instance),
            week_label(instance),
        )


class NumberColumn(Column):
    """A figure, right-aligned, in the reader's number format; ``–`` when
    there is none (no ticket for a median, no rating for a share)."""

    def __init__(self, name, *, decimals=0, suffix="", **kwargs):
        kwargs.setdefault("classname", "vd-report-num")
        super().__init__(name, **kwargs)
        self.decimals = decimals
        self.suffix = suffix

    def render_cell_html(self, instance, parent_context):
        value = getattr(instance, self.accessor)
        if value is None:
            return format_html('<td class="vd-report-num">{}</td>', "–")
        # number_format cuts decimals off; the figure is rounded first.
        text = number_format(
            round(value, self.decimals), self.decimals, force_grouping=True
        )
        return format_html('<td class="vd-report-num">{}{}</td>', text, self.suffix)


class ReportTable(Table):
    """Wagtail's table, the totals row marked (``vd-report-total``)."""

    def get_row_classname(self, instance):
        return "vd-report-total" if getattr(instance, "is_total", False) else ""


class ServiceFilterSet(WagtailFilterSet):
    """The report's period; its weeks are read by the view, not filtered
    from a queryset (opened, resolved and rated are different dates)."""

    period = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Weeks"),
        widget=DateRangePickerWidget,
        method="whole_weeks",
    )

    class Meta:
        model = Ticket
        fields = ["period"]

    def whole_weeks(self, queryset, name, value):
        return queryset


class AgentReportView(ReaderLanguageCsvMixin, ReportView):
    """A report of aggregated rows (no pages, no ordering), agents only."""

    paginate_by = None
    table_class = ReportTable
    table_classname = "listing vd-report-table"
    #: The other report, linked from the header: (title, URL name, icon).
    other_report: tuple = ()

    def dispatch(self, request, *args, **kwargs):
        # Also guarded where its URLs are made (``admin_urls``).
        if not is_agent(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def header_buttons(self):
        title, url_name, icon = self.other_report
        return [HeaderButton(title, url=reverse(url_name), icon_name=icon)]

    def to_row_dict(self, item):
        return {name: self.export_value(item, name) for name in self.list_export}

    def export_value(self, item, name):
        return getattr(item, name)

    def get_filename(self):
        return f"{self.export_filename}-{timezone.localdate().isoformat()}"


class ServiceReportView(AgentReportView):
    """Per ISO week of the chosen period (default: the last twelve), with
    its totals and a chart of opened against resolved tickets."""

    page_title = SERVICE_TITLE
    header_icon = "table"
    template_name = "vivadesk_wagtail/staff/reports/service.html"
    results_template_name = "vivadesk_wagtail/staff/reports/service_results.html"
    filterset_class = ServiceFilterSet
    index_url_name = SERVICE_URL_NAME
    index_results_url_name = SERVICE_RESULTS_URL_NAME
    export_filename = "service-report"
    other_report = (BACKLOG_TITLE, BACKLOG_URL_NAME, "tasks")
    columns = [
        WeekColumn("week", label=gettext_lazy("Week")),
        NumberColumn("opened", label=gettext_lazy("Opened")),
        NumberColumn("resolved", label=gettext_lazy("Resolved")),
        NumberColumn(
            "first_response_hours",
            label=gettext_lazy("Median first response (h)"),
            decimals=1,
        ),
        NumberColumn(
            "resolution_hours",
            label=gettext_lazy("Median resolution (h)"),
            decimals=1,
        ),
        NumberColumn(
            "first_response_breached", label=gettext_lazy("First response missed")
        ),
        NumberColumn("resolution_breached", label=gettext_lazy("Resolution missed")),
        NumberColumn("rated_good", label=gettext_lazy("Rated good")),
        NumberColumn("rated_bad", label=gettext_lazy("Rated bad")),
        NumberColumn(
            "good_share", label=gettext_lazy("Good share"), decimals=0, suffix="\u00a0%"
        ),
    ]
    list_export = [
        "week",
        "start",
        "opened",
        "resolved",
        "first_response_hours",
        "resolution_hours",
        "first_response_breached",
        "resolution_breached",
        "rated_good",
        "rated_bad",
        "good_share",
    ]
    export_headings = {
        "week": gettext_lazy("Week"),
        "start": gettext_lazy("Week starting"),
        "opened": gettext_lazy("Tickets opened"),
        "resolved": gettext_lazy("Tickets resolved"),
        "first_response_hours": gettext_lazy("Median first response (business hours)"),
        "resolution_hours": gettext_lazy("Median resolution (business hours)"),
        "first_response_breached": gettext_lazy("First-response target missed"),
        "resolution_breached": gettext_lazy("Resolution target missed"),
        "rated_good": gettext_lazy("Rated good"),
        "rated_bad": gettext_lazy("Rated bad"),
        "good_share": gettext_lazy("Good ratings (%)"),
    }

    def chosen_period(self) -> report_queries.Period:
        start = end = None
        if self.filters and self.filters.is_valid():
            chosen = self.filters.form.cleaned_data.get("period")
            if chosen:
                start = chosen.start.date() if chosen.start else None
                end = chosen.stop.date() if chosen.stop else None
        today = timezone.localdate(timezone=report_queries.business_zone())
        return report_queries.Period.covering(start, end, today)

    def get_filtered_queryset(self):
        self.period = self.chosen_period()
        self.weeks, self.total = report_queries.service_weeks(self.period)
        return [*self.weeks, self.total]

    def export_value(self, item, name):
        return week_label(item) if name == "week" else getattr(item, name)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            chart=weekly_chart(self.weeks),
            period=self.period,
            total=self.total,
            first_week=week_label(self.weeks[0]),
            last_week=week_label(self.weeks[-1]),
        )
        return context


def group_name(group: report_queries.BacklogGroup) -> str:
    """A backlog group's name as the reader reads it."""
    if group.dimension == "status":
        return str(TicketStatus(group.key).label)
    if group.key is None:
        if group.dimension == "category":
            return gettext("No category")
        return gettext("Nobody")
    return group.name


#: The backlog's groupings: attribute of ``Backlog`` and heading.
DIMENSIONS = {
    "status": ("by_status", gettext_lazy("By status")),
    "category": ("by_category", gettext_lazy("By category")),
    "assignee": ("by_assignee", gettext_lazy("By assignee")),
}


class GroupColumn(Column):
    def render_cell_html(self, instance, parent_context):
        return format_html('<th scope="row">{}</th>', group_name(instance))


class BacklogReportView(AgentReportView):
    """The open tickets now, and how many of them are overdue (their
    earliest pending due time has passed), by status, category and assignee."""

    page_title = BACKLOG_TITLE
    header_icon = "tasks"
    template_name = "vivadesk_wagtail/staff/reports/backlog.html"
    results_template_name = "vivadesk_wagtail/staff/reports/backlog_results.html"
    index_url_name = BACKLOG_URL_NAME
    index_results_url_name = BACKLOG_RESULTS_URL_NAME
    export_filename = "backlog"
    other_report = (SERVICE_TITLE, SERVICE_URL_NAME, "table")
    columns = [
        GroupColumn("name", label=gettext_lazy("Group")),
        NumberColumn("open", label=pgettext_lazy("tickets", "Open")),
        NumberColumn("overdue", label=gettext_lazy("Overdue")),
    ]
    list_export = ["dimension", "name", "open", "overdue"]
    export_headings = {
        "dimension": gettext_lazy("Grouped by"),
        "name": gettext_lazy("Group"),
        "open": gettext_lazy("Open tickets"),
        "overdue": gettext_lazy("Overdue"),
    }

    def get_filtered_queryset(self):
        self.backlog = report_queries.backlog(timezone.now())
        return [
            group
            for attribute, _heading in DIMENSIONS.values()
            for group in getattr(self.backlog, attribute)
        ]

    def export_value(self, item, name):
        if name == "dimension":
            return str(DIMENSIONS[item.dimension][1])
        if name == "name":
            return group_name(item)
        return getattr(item, name)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sections = []
        for attribute, heading in DIMENSIONS.values():
            groups = getattr(self.backlog, attribute)
            table = self.table_class(
                self.columns, groups, classname=self.table_classname
            )
            sections.append((heading, groups, table))
        context["sections"] = sections
        context["backlog"] = self.backlog
        return context


class ReportsMenuItem(MenuItem):
    def is_shown(self, request):
        return is_agent(request.user)


def register_menu_item() -> MenuItem:
    """A ``register_reports_menu_item`` hook: the service report (which
    links to the backlog)."""
    return ReportsMenuItem(
        SERVICE_TITLE,
        reverse(SERVICE_URL_NAME),
        name="service-report",
        icon_name="table",
        order=1000,
    )


def admin_urls() -> list:
    """A ``register_admin_urls`` hook: both reports, agents only."""
    return agents_only(
        [
            path(
                "reports/service/",
                ServiceReportView.as_view(),
                name=SERVICE_URL_NAME,
            ),
            path(
                "reports/service/results/",
                ServiceReportView.as_view(results_only=True),
                name=SERVICE_RESULTS_URL_NAME,
            ),
            path(
                "reports/service/backlog/",
                BacklogReportView.as_view(),
                name=BACKLOG_URL_NAME,
            ),
            path(
                "reports/service/backlog/results/",
                BacklogReportView.as_view(results_only=True),
                name=BACKLOG_RESULTS_URL_NAME,
            ),
        ]
    )
