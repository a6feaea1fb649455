"""Contact-form posts the spam traps caught, in the Wagtail admin (agents
only), reviewed through ``services.spam`` (:class:`SpamViewSet`,
:class:`SpamScreenView`).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.snippets.views import snippets as snippet_views

from .. import conf
from ..models import CaughtSubmission
from ..permissions import is_agent
from ..services import intake
from ..services import spam as service
from .access import AgentsOnlyViewSet
from .counts import caught_post_count, counted_paginator

#: What the agent is told after accepting, by ``intake.Outcome.mail``.
ACCEPTED = {
    intake.QUEUED: gettext_lazy(
        "Ticket %(ticket)s opened; the confirmation mail is on its way to %(email)s."
    ),
    intake.WITHHELD: gettext_lazy(
        "Ticket %(ticket)s opened; no confirmation mail was sent to %(email)s."
    ),
    intake.UNDELIVERABLE: gettext_lazy(
        "Ticket %(ticket)s opened; no confirmation mail: %(email)s is marked "
        "undeliverable."
    ),
}


class SpamScreenView(snippet_views.InspectView):
    """The review screen of one caught post, with its actions.

    The text (escaped), the extra fields, the names of the files, and two
    POST actions through ``services.spam`` — accept as a ticket (the
    confirmation mail goes out then, never before) and delete. A second POST
    finds the row gone and says so.
    """

    any_permission_required = ["view"]
    page_title = gettext_lazy("Caught post")

    def get_object(self, queryset=None):
        return (
            CaughtSubmission.objects.select_related("category")
            .filter(pk=self.pk)
            .first()
        )

    def dispatch(self, request, *args, **kwargs):
        if not is_agent(request.user):
            raise PermissionDenied
        if self.object is None:
            if request.method != "POST":
                raise Http404
            # Another agent (or a second click) was first.
            messages.error(request, _("This post was accepted or deleted already."))
            return redirect(self.get_index_url())
        return super().dispatch(request, *args, **kwargs)

    def get_fields(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        row = self.object
        context.update(
            post=row,
            files=[
                {**item, "size_label": filesizeformat(item.get("size") or 0)}
                for item in row.files
            ],
            retention_days=conf.get("SPAM_RETENTION").days,
            index_url=self.get_index_url(),
        )
        return context

    def get_index_url(self):
        return reverse(self.index_url_name)

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        pk = self.object.pk
        try:
            if action == "accept":
                outcome = service.accept(pk, by=request.user)
                messages.success(
                    request,
                    ACCEPTED[outcome.mail]
                    % {"ticket": outcome.ticket.reference, "email": self.object.email},
                )
            elif action == "delete":
                service.delete(pk, by=request.user)
                messages.success(request, _("The caught post was deleted."))
            else:
                messages.error(request, _("Unknown action."))
                return redirect(request.path)
        except service.SpamError as exc:
            messages.error(request, str(exc))
        return redirect(self.get_index_url())


class SpamIndexView(snippet_views.IndexView):
    """The listing of caught posts, counted in each language's plural forms."""

    paginator_class = counted_paginator(caught_post_count)


class SpamViewSet(AgentsOnlyViewSet):
    """Register in the Help desk group: ``items = (…, SpamViewSet)``.

    A snippet viewset on :class:`CaughtSubmission` listing them (subject,
    sender, why caught, when) whose inspect view is :class:`SpamScreenView`.
    Rows are never added or edited through generic views: ``wagtail_hooks``
    registers ``ServiceWrittenPolicy`` for the model.
    """

    model = CaughtSubmission
    icon = "bin"
    menu_label = gettext_lazy("Spam")
    menu_name = "vivadesk_spam"
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50
    index_view_class = SpamIndexView
    inspect_view_class = SpamScreenView
    inspect_template_name = "vivadesk_wagtail/staff/spam.html"
    #: The subject (title column) links to the review screen.
    list_display = [
        "subject",
        Column("email", label=gettext_lazy("Sender")),
        Column("reason", label=gettext_lazy("Reason"), accessor="get_reason_display"),
        DateColumn("created_at", label=gettext_lazy("Received"), sort_key="created_at"),
    ]
    search_fields = ["subject", "email", "name"]
    search_backend_name = None
