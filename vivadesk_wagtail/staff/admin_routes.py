"""Admin routes the help desk does not own but guards (DESIGN.md decision 8):
wagtail-localize's snippet API (:func:`localize_snippet_api_urls`). Django's
admin: see ``vivadesk_wagtail.admin``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import path
from wagtail_localize.views import snippets_api

from ..permissions import is_agent, is_helpdesk_model

#: wagtail-localize's routes, relative to the Wagtail admin's root.
LOCALIZE_SNIPPET_API = "localize/api/snippets/<slug:app_label>/<slug:model_name>/"


class HelpDeskSafeSnippetAPI(snippets_api.SnippetViewSet):
    """wagtail-localize's snippet API; help-desk models for agents only.

    wagtail-localize's snippet API (``localize/api/snippets/<app>/<model>/``)
    answers any admin user with every row of any snippet model. The help
    desk registers the same two URLs ahead of it (``register_admin_urls``
    with a lower ``order``), answered by this subclass, which refuses
    help-desk models to everybody but agents.
    """

    def get_model(self):
        model = super().get_model()
        if is_helpdesk_model(model) and not is_agent(self.request.user):
            raise PermissionDenied
        return model


def localize_snippet_api_urls() -> list:
    """A ``register_admin_urls`` hook that must run before wagtail-localize's
    (the first matching pattern answers)."""
    return [
        path(
            LOCALIZE_SNIPPET_API,
            HelpDeskSafeSnippetAPI.as_view({"get": "list"}),
        ),
        path(
            f"{LOCALIZE_SNIPPET_API}<str:pk>/",
            HelpDeskSafeSnippetAPI.as_view({"get": "retrieve"}),
        ),
    ]
