"""Snippet viewsets whose every URL (and their choosers') is for agents only
(``permissions.agents_only``), on top of the model permission checks; and a
chooser page editors may pick from (:class:`PageEditorsChooserViewSet`)."""

import functools

from django.core.exceptions import PermissionDenied
from django.urls import URLPattern
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.snippets.views.chooser import (
    ChooseResultsView,
    ChooseView,
    SnippetChooserViewSet,
)
from wagtail.snippets.views.snippets import SnippetViewSet

from ..permissions import agents_only, is_agent

#: The page permissions that make a user a page editor somewhere in the tree.
PAGE_EDITING = frozenset({"add", "change", "publish"})


def may_edit_pages(user) -> bool:
    """Agents, and users who may add, edit or publish some page (Wagtail's
    "Editors" and "Moderators" groups)."""
    if is_agent(user):
        return True
    return PagePermissionPolicy().user_has_any_permission(user, PAGE_EDITING)


def page_editor_required(view):
    """Decorate an admin view: anybody but a page editor gets 403."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_edit_pages(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class AgentsOnlyChooserViewSet(SnippetChooserViewSet):
    """Snippet choosers list rows without a permission check: close them."""

    def get_urlpatterns(self):
        return agents_only(super().get_urlpatterns())


#: The chooser's listing, without the "create one now" link for users who
#: may not create rows.
PAGE_EDITORS_RESULTS = "vivadesk_wagtail/staff/page_editors_chooser_results.html"


class PageEditorsChooseView(ChooseView):
    results_template_name = PAGE_EDITORS_RESULTS


class PageEditorsChooseResultsView(ChooseResultsView):
    results_template_name = PAGE_EDITORS_RESULTS


class PageEditorsChooserViewSet(SnippetChooserViewSet):
    """A chooser for a snippet a page refers to (a contact page's category):
    page editors may list, search and pick rows; every other view of it
    (creating a row from the chooser) stays for agents. Its model's rows
    must be configuration, never help-desk data."""

    choose_view_class = PageEditorsChooseView
    choose_results_view_class = PageEditorsChooseResultsView
    #: The views page editors may open.
    page_editor_url_names = frozenset(
        {"choose", "choose_results", "chosen", "chosen_multiple"}
    )

    def get_urlpatterns(self):
        patterns = super().get_urlpatterns()
        for pattern in patterns:
            if (
                isinstance(pattern, URLPattern)
                and pattern.name in self.page_editor_url_names
            ):
                pattern.callback = page_editor_required(pattern.callback)
            else:
                agents_only([pattern])
        return patterns


class AgentsOnlyViewSet(SnippetViewSet):
    chooser_viewset_class = AgentsOnlyChooserViewSet

    def get_urlpatterns(self):
        return agents_only(super().get_urlpatterns())
