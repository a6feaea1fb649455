"""Snippet viewsets whose every URL (and their choosers') is for agents only
(``permissions.agents_only``), on top of the model permission checks."""

from wagtail.snippets.views.chooser import SnippetChooserViewSet
from wagtail.snippets.views.snippets import SnippetViewSet

from ..permissions import agents_only


class AgentsOnlyChooserViewSet(SnippetChooserViewSet):
    """Snippet choosers list rows without a permission check: close them."""

    def get_urlpatterns(self):
        return agents_only(super().get_urlpatterns())


class AgentsOnlyViewSet(SnippetViewSet):
    chooser_viewset_class = AgentsOnlyChooserViewSet

    def get_urlpatterns(self):
        return agents_only(super().get_urlpatterns())
