"""Text modules in the admin: the snippet editors and admins manage and
translate (:class:`TextModuleViewSet`, Snippets menu), and the picker in the
reply box of the ticket screen (:func:`screen_context`, :func:`insert`)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.tables import Column, DateColumn, LocaleColumn
from wagtail.snippets.views.snippets import SnippetViewSet

from ..models import TextModule, Ticket
from ..permissions import is_agent
from ..services import text_modules as service

#: The name of the inserting endpoint under the tickets viewset.
INSERT_URL_NAME = "text_module"


def body_help() -> str:
    """The body field's help: each placeholder and what it is filled with."""
    placeholders = "; ".join(
        f"{{{name}}} – {label}" for name, label in service.PLACEHOLDERS.items()
    )
    return gettext(
        "Placeholders, filled in when an agent inserts the text: %(placeholders)s."
    ) % {"placeholders": placeholders}


class TextModuleViewSet(SnippetViewSet):
    """Text modules ("Textbausteine") under Snippets: editors and admins
    write and translate them (model permissions; wagtail-localize adds its
    "Translate" actions), agents may look them up and insert them on the
    ticket screen. A body whose placeholders cannot be filled is refused by
    the model's ``clean()``, in the editor and in a translation alike."""

    model = TextModule
    icon = "openquote"
    menu_label = _("Text modules")
    menu_name = "vivadesk_text_modules"
    add_to_admin_menu = False
    list_per_page = 50
    list_display = [
        "title",
        Column("category", label=_("Category"), accessor="category"),
        LocaleColumn(label=_("Language")),
        Column("usage_count", label=_("Times used"), sort_key="usage_count"),
        DateColumn("last_used_at", label=_("Last used"), sort_key="last_used_at"),
    ]
    list_filter = ["category"]
    search_fields = ["title", "body"]
    search_backend_name = None
    panels = [
        FieldPanel("title"),
        FieldPanel("body", help_text=lazy(body_help, str)()),
        FieldPanel("category"),
    ]

    def get_queryset(self, request):
        return TextModule.objects.select_related("category", "locale")


def screen_context(view) -> dict:
    """The modules the reply box offers on this ticket, each with the URL
    that returns its filled text."""
    ticket = view.object
    namespace = view.request.resolver_match.namespace
    url_name = f"{namespace}:{INSERT_URL_NAME}"
    language = service.ticket_language(ticket)
    offered = service.for_ticket(ticket, language)
    for module in offered:
        module.insert_url = reverse(url_name, args=[ticket.pk, module.pk])
    return {"text_modules": offered, "text_modules_language": language}


@require_GET
def insert(request, pk: int, module_pk: int):
    """A module's text for a reply on ticket ``pk``, filled in (JSON
    ``{"id": …, "text": …}``); agents only. Counting happens when the reply
    is sent (``ReplyForm``), not here."""
    if not is_agent(request.user):
        raise PermissionDenied
    ticket = get_object_or_404(
        Ticket.objects.select_related("customer", "category"), pk=pk
    )
    module = service.offered(ticket, module_pk)
    if module is None:
        raise Http404
    text = service.render(module, ticket, request.user)
    response = JsonResponse({"id": module.pk, "text": text})
    response["Cache-Control"] = "private, no-store"
    return response


def urlpatterns(viewset) -> list:
    """This part's URLs under the tickets viewset (agents only)."""
    return [
        path(
            "<int:pk>/text-modules/<int:module_pk>/",
            insert,
            name=INSERT_URL_NAME,
        )
    ]
