"""The ticket listing: open tickets, oldest waiting first; search over the
whole table, then the listing's filters (:class:`TicketIndexView`).
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib.admin.utils import quote
from django.db import connections
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.search.backends import get_search_backend
from wagtail.search.backends.base import FieldError
from wagtail.snippets.views import chooser as chooser_views
from wagtail.snippets.views import snippets as snippet_views

from ..models import OPEN_STATUSES, Ticket
from ..search_terms import clean_terms
from .access import AgentsOnlyChooserViewSet
from .columns import FastCheckboxColumn, FastTitleColumn
from .views import AgentRequiredMixin

#: Most search matches a listing shows; refine the query to see others.
MAX_SEARCH_RESULTS = 500


class TicketIndexView(AgentRequiredMixin, snippet_views.IndexView):
    """Sorting is limited to the columns' ``sort_key`` values (Wagtail ignores
    any other ``?ordering=``). Search goes through Wagtail's search backend
    over the whole table, and the matches then meet the listing's filters and
    ordering as a primary-key condition (:meth:`search_queryset`), so filters
    on fields the search index does not know (dates, "waiting since") still
    apply. The typed search reaches the backend as plain words only
    (``search_terms.clean_terms``), here and in the ticket chooser."""

    default_ordering = "waiting_since"

    @cached_property
    def columns(self):
        _bulk, *others = super().columns
        bulk = FastCheckboxColumn("bulk_actions", obj_type="snippet")
        title = FastTitleColumn(
            "reference",
            label=_("Reference"),
            sort_key="number",
            get_url=self.inspect_url_for,
        )
        return [bulk, title, *others]

    @cached_property
    def _inspect_url_parts(self) -> tuple[str, str] | None:
        sample = self.get_inspect_url(SimpleNamespace(pk=0))
        if sample is None:
            return None
        head, _zero, tail = sample.rpartition("/0/")
        return f"{head}/", f"/{tail}"

    def inspect_url_for(self, instance) -> str | None:
        """``get_inspect_url`` (same checks, same URL) with one ``reverse``
        per page, not one per row."""
        if self._inspect_url_parts is None:
            return None
        head, tail = self._inspect_url_parts
        return f"{head}{quote(instance.pk)}{tail}"

    def paginate_queryset(self, queryset, page_size):
        """Wagtail's pagination, but the page's rows are picked by a narrow
        subquery (primary keys only, no joins), and only those rows are then
        read with their customer, assignee and category. Otherwise the
        database joins and sorts every matching row (all open tickets) to
        keep 50 of them."""
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        if isinstance(object_list, QuerySet) and object_list.query.is_sliced:
            features = connections[object_list.db].features
            if features.allow_sliced_subqueries_with_in:
                query = object_list.query
                pks = queryset.values("pk")[query.low_mark : query.high_mark]
                object_list = queryset.filter(pk__in=pks)
                page.object_list = object_list
        return paginator, page, object_list, is_paginated

    def filter_queryset(self, queryset):
        if self.filters and not self.filters.is_valid():
            # A stale or forged filter value: fall back to the default view.
            return queryset.filter(status__in=OPEN_STATUSES)
        return super().filter_queryset(queryset)

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        ordering = list(queryset.query.order_by)
        if ordering and "pk" not in ordering and "-pk" not in ordering:
            queryset = queryset.order_by(*ordering, "pk")
        return queryset

    @cached_property
    def search_query(self) -> str:
        """The search box's words, without search syntax; ``""`` (no search)
        when nothing searchable is left."""
        if self.search_form and self.search_form.is_valid():
            return clean_terms(self.search_form.cleaned_data[self.search_kwarg])
        return ""

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        pks = self.matching_pks()
        queryset = queryset.filter(pk__in=pks)
        if self.is_explicitly_ordered or not pks:
            return queryset
        rank = Case(
            *(When(pk=pk, then=Value(i)) for i, pk in enumerate(pks)),
            output_field=IntegerField(),
        )
        return queryset.order_by(rank, "pk")

    def matching_pks(self) -> list:
        """Primary keys of the best matches: whole words over every indexed
        field (reference, subject, customer, messages), then partial words of
        the subject (autocomplete)."""
        backend = get_search_backend(self.search_backend_name)
        base = Ticket.objects.all()
        pks: list = []
        seen: set = set()
        for method in (backend.search, backend.autocomplete):
            try:
                results = method(self.search_query, base)
                found = [obj.pk for obj in results[:MAX_SEARCH_RESULTS]]
            except FieldError:
                continue
            pks.extend(pk for pk in found if pk not in seen)
            seen.update(found)
        return pks[:MAX_SEARCH_RESULTS]


class PlainSearchChooseMixin:
    """A chooser view whose search box passes on plain words only."""

    def get_filter_form(self):
        params = self.request.GET.copy()
        if "q" in params:
            params["q"] = clean_terms(params["q"])
        return self.get_filter_form_class()(params)


class TicketChooseView(PlainSearchChooseMixin, chooser_views.ChooseView):
    pass


class TicketChooseResultsView(PlainSearchChooseMixin, chooser_views.ChooseResultsView):
    pass


class TicketChooserViewSet(AgentsOnlyChooserViewSet):
    """The ticket chooser (agents only), searching plain words."""

    choose_view_class = TicketChooseView
    choose_results_view_class = TicketChooseResultsView
