"""Serving a contact page: spam traps, rate limits, then ``services.intake``.

Bots (honeypot filled, form sent faster than a person can) get the same
thank-you page as people, and nothing is stored or sent. The thank-you page
is the same for new, unconfirmed and confirmed addresses. Only a visitor
signed in as the address's customer posts as that customer; any other post
is unverified, and its confirmation mail counts against the per-address cap.
"""

from __future__ import annotations

import logging
import secrets

from django.template.response import TemplateResponse
from django.utils import translation

from .. import conf, ratelimits
from ..accounts.views import rate_limited
from ..services import customers, intake

logger = logging.getLogger(__name__)


def serve_contact_page(page, request, *args, **kwargs):
    if request.method != "POST":
        form = page.get_form(page=page, user=request.user, request=request)
        return _show(page, request, form)
    if ratelimits.form_post_limited(request):
        return rate_limited(request)
    form = page.get_form(
        request.POST, request.FILES, page=page, user=request.user, request=request
    )
    if not form.is_valid():
        return _show(page, request, form)
    if form.looks_automated():
        logger.info("Contact form on page %s: automated submission dropped", page.pk)
        fake = f"{conf.get('TICKET_PREFIX')}-{secrets.randbelow(10**6)}"
        return _landing(page, request, fake)
    ticket = intake.submit(_submission(page, request, form))
    return _landing(page, request, ticket.reference)


def _submission(page, request, form) -> intake.Submission:
    data = form.cleaned_data
    signed_in = _signed_in_as(request, data["email"])
    # Every address, confirmed or not, gets at most so many acknowledgements
    # of posts it did not sign in for.
    acknowledge = signed_in or ratelimits.confirmation_allowed(request, data["email"])
    return intake.Submission(
        name=data["name"],
        email=data["email"],
        subject=data["subject"],
        message=data["message"],
        language=page.locale.language_code or translation.get_language(),
        category=page.category,
        form_data=form.extra_data(page.get_form_fields()),
        attachments=data.get("attachments") or [],
        idempotency_key=data.get("idempotency_key") or None,
        acknowledge=acknowledge,
        signed_in=signed_in,
    )


def _signed_in_as(request, address: str) -> bool:
    """Whether the visitor is signed in as the customer of ``address``
    (whoever else is signed in posts as a stranger to that address)."""
    if not request.user.is_authenticated:
        return False
    profile = customers.find_profile(address)
    return profile is not None and profile.user_id == request.user.pk


def _show(page, request, form):
    context = page.get_context(request)
    context["form"] = form
    return TemplateResponse(request, page.get_template(request), context)


def _landing(page, request, reference: str):
    context = page.get_context(request)
    context["reference"] = reference
    return TemplateResponse(request, page.get_landing_page_template(request), context)
