"""What the page editor shows of the requests a contact page brought: their
number on the page (:class:`RequestCountPanel`), and Wagtail's "Forms" menu
without contact pages (:func:`without_contact_pages`), whose posts become
tickets under "Help desk", not form submissions.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode
from wagtail.admin.panels import Panel

from ..models import ContactPage, Ticket
from ..permissions import is_agent


def request_count(page: ContactPage) -> int:
    """Tickets sent from ``page`` or any of its translations."""
    versions = ContactPage.objects.filter(translation_key=page.translation_key)
    return Ticket.objects.filter(contact_page__in=versions.values("pk")).count()


def listing_url(page: ContactPage) -> str:
    """The ticket listing filtered to the requests of ``page`` (all states)."""
    query = urlencode({"contact_page": page.translation_key, "show": "all"})
    return f"{reverse('wagtailsnippets_vivadesk_wagtail_ticket:list')}?{query}"


class RequestCountPanel(Panel):
    """The number of requests on a saved contact page; agents get the link to
    them in the help desk (a number tells nobody anything about a customer)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "vivadesk_wagtail/pages/request_count_panel.html"

        def is_shown(self):
            return bool(self.instance and self.instance.pk)

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["count"] = request_count(self.instance)
            if is_agent(self.request.user):
                context["listing_url"] = listing_url(self.instance)
            return context


def without_contact_pages(user, editable_forms):
    """Wagtail's ``filter_form_submissions_for_user`` hook: the "Forms" menu
    lists form pages whose posts it stores; a contact page stores none."""
    return editable_forms.not_type(ContactPage)
