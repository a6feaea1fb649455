"""Agents clear the "mail undeliverable" mark of a ticket's customer.

The ticket screen's header shows the mark (since when, why, the bounce) and
a button that POSTs here; the change goes through
``services.deliverability``, which writes the ticket's audit log.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from ..models import CustomerProfile, Ticket
from ..permissions import is_agent
from ..services import deliverability


@require_POST
def clear_undeliverable(request, pk: int, inspect_url_name: str):
    """Mail to the customer of ticket ``pk`` is sent again (agents only)."""
    if not is_agent(request.user):
        raise PermissionDenied
    ticket = get_object_or_404(Ticket, pk=pk)
    profile = get_object_or_404(CustomerProfile, user_id=ticket.customer_id)
    if deliverability.clear_undeliverable(profile, by=request.user, ticket=ticket):
        messages.success(
            request,
            _("Mail to %(email)s will be sent again.") % {"email": profile.email},
        )
    return redirect(inspect_url_name, ticket.pk)
