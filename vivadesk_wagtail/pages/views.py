"""Serving a contact page: rate limit, spam traps, then ``services.intake``.
``ContactPage`` overrides the seams of Wagtail's ``AbstractForm.serve`` with
the steps here: ``serve`` asks :func:`rate_limited` first,
``process_form_submission`` is :func:`submit`, ``render_landing_page`` is
:func:`landing`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from .. import conf, ratelimits
from ..models import CompanyDetails
from ..services import consent, customers, intake, spam, tickets
from . import recent
from .forms import HONEYPOT, NOTICE

logger = logging.getLogger(__name__)

#: What the thank-you page says about the confirmation mail (see above).
SENT, SENT_EARLIER, NOT_SENT, UNDELIVERABLE = (
    "sent",
    "sent_earlier",
    "not_sent",
    "undeliverable",
)


@dataclass
class Submitted:
    """What :func:`submit` made of a valid post, for :func:`landing`: a
    ticket (``outcome``) or a post caught as spam (``caught``)."""

    email: str
    outcome: intake.Outcome | None = None
    signed_in: bool = False
    caught: bool = False


def rate_limited(page, request):
    """The form again with HTTP 429 when the client IP is over its limit of
    stored posts (checked before the form is read, counted by
    :func:`submit`); ``None`` when it may post.

    Only stored posts count toward the per-IP limit, checked before and
    counted after: over it, the form comes back with everything typed, when
    to send it again, and HTTP 429.
    """
    if request.method != "POST":
        return None
    wait = ratelimits.form_post_wait(request)
    if not wait:
        return None
    form = page.get_form(
        request.POST, request.FILES, page=page, user=request.user, request=request
    )
    return _ask_to_wait(page, request, form, wait)


def submit(page, request, form) -> Submitted:
    """Store a valid post: a ticket through ``services.intake``, or a caught
    post through ``services.spam``; either counts toward the IP's limit.

    A ticket keeps the privacy notice its visitor saw under the form
    (``services.consent``): the form carries the notice's digest, so a notice
    the editors changed while the form was open is still the one recorded.
    A caught post keeps none (an agent accepting it opens a ticket without).

    A post the traps catch (honeypot filled, sent faster than a person can, a
    forged or another visitor's time stamp) opens no ticket and mails nobody:
    it is kept as spam for agents to review (``services.spam``), and its
    thank-you page says so, without a Ticket ID.
    """
    data = form.cleaned_data
    reason = form.caught_by()
    if reason:
        _catch(page, form, reason)
        ratelimits.count_form_post(request)
        return Submitted(email=data["email"], caught=True)
    signed_in = _signed_in_as(request, data["email"])
    # Every address, confirmed or not, gets at most so many acknowledgements
    # of posts it did not sign in for.
    acknowledge = signed_in or ratelimits.confirmation_allowed(request, data["email"])
    submission = _submission(page, form, acknowledge, signed_in)
    submission.privacy_notice = consent.seen(page, data.get(NOTICE))
    outcome = intake.receive(submission)
    ratelimits.count_form_post(request)
    return Submitted(email=data["email"], outcome=outcome, signed_in=signed_in)


def landing(page, request, submitted: Submitted | None):
    """The thank-you page of ``submitted``; ``None`` (the editor's preview)
    shows it for an example Ticket ID.

    The thank-you page of a ticket tells what became of its confirmation mail
    (``intake.Outcome``, :func:`_mail_state`) and never whether the address
    had an account (DESIGN.md): to a visitor not signed in as the address's
    customer it shows

    - "mail sent": queued now, whatever the account (new, unconfirmed or
      confirmed: the caps apply to every address alike);
    - "mail sent at …": held back by the per-address cap, and this browser
      had a confirmation queued for that address before (``pages.recent``, a
      signed cookie only that browser has): look in the spam folder;
    - "no mail now" otherwise, one text for both causes — the caps (another
      visitor's recent post) and an address marked undeliverable (which only
      an account can be) — naming both, with the phone number. That much (the
      address was used lately, or bounces) a truthful page cannot hide from a
      stranger who posts for it; which of the two, and the account's state,
      it does.

    The account paragraph is the same sentence for every address: requests
    are kept in an account for the address, created with its first request,
    and until it is confirmed the mail's link confirms it. True for a new, an
    unconfirmed and a confirmed address alike, so it tells a new customer
    what happened and a stranger nothing. The address's own customer, signed
    in, is told plainly that the mail bounced, and gets the link to the
    ticket.
    """
    if submitted is None:
        return _landing_preview(page, request)
    if submitted.caught:
        context = page.get_context(request)
        context.update(caught=True, **_contact())
        return TemplateResponse(
            request, page.get_landing_page_template(request), context
        )
    return _landing(
        page, request, submitted.email, submitted.outcome, submitted.signed_in
    )


def _submission(page, form, acknowledge=False, signed_in=False) -> intake.Submission:
    data = form.cleaned_data
    return intake.Submission(
        name=data["name"],
        email=data["email"],
        subject=data["subject"],
        message=data["message"],
        language=page.locale.language_code or translation.get_language(),
        category=page.category,
        contact_page=page,
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


def _catch(page, form, reason: str) -> None:
    trap_value = form.cleaned_data.get(HONEYPOT) or ""
    pk = spam.catch(_submission(page, form), reason, trap_value)
    logger.info(
        "Contact form on page %s: automated submission dropped (%s): no ticket, "
        "no mail; kept as caught post %s for review",
        page.pk,
        reason,
        pk,
    )


def _show(page, request, form, status: int = 200):
    context = page.get_context(request)
    context["form"] = form
    return TemplateResponse(request, page.get_template(request), context, status=status)


def _ask_to_wait(page, request, form, seconds: int):
    """The form again, with what was typed and when to send it (429)."""
    minutes = max(1, math.ceil(seconds / 60))
    form.is_valid()  # the errors of the fields, as usual
    form.add_error(
        None,
        ngettext(
            "Many requests have been sent from your network in a short time. "
            "Please send this one again in %(minutes)d minute: everything you "
            "typed is still here (please choose any files again).",
            "Many requests have been sent from your network in a short time. "
            "Please send this one again in %(minutes)d minutes: everything you "
            "typed is still here (please choose any files again).",
            minutes,
        )
        % {"minutes": minutes},
    )
    response = _show(page, request, form, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _landing(page, request, email: str, outcome: intake.Outcome, signed_in: bool):
    mail, sent_at = _mail_state(request, email, outcome, signed_in)
    context = page.get_context(request)
    context.update(
        reference=outcome.ticket.reference,
        email=email,
        mail=mail,
        sent_at=sent_at,
        signed_in=signed_in,
        **_contact(),
    )
    if signed_in:
        context["ticket_url"] = reverse(
            "vivadesk_wagtail:ticket", args=[outcome.ticket.reference]
        )
    response = TemplateResponse(
        request, page.get_landing_page_template(request), context
    )
    if mail == SENT:
        recent.remember(request, response, email)
    return response


def _landing_preview(page, request):
    """The thank-you page as a visitor whose mail went out sees it, for an
    example Ticket ID (Wagtail's "Landing page" preview)."""
    context = page.get_context(request)
    context.update(
        reference=tickets.format_reference(conf.get("TICKET_FIRST_NUMBER")),
        email="kunde@example.com",
        mail=SENT,
        sent_at=None,
        signed_in=False,
        **_contact(),
    )
    return TemplateResponse(request, page.get_landing_page_template(request), context)


def _mail_state(request, email: str, outcome: intake.Outcome, signed_in: bool):
    """What the page says about the mail, and when an earlier one went."""
    if outcome.mail == intake.QUEUED:
        return SENT, None
    if outcome.mail == intake.UNDELIVERABLE and signed_in:
        return UNDELIVERABLE, None
    if outcome.mail == intake.WITHHELD:
        sent_at = recent.sent_at(request, email)
        if sent_at is not None:
            return SENT_EARLIER, sent_at
    return NOT_SENT, None


def _contact() -> dict:
    company = CompanyDetails.current()
    return {
        "phone": company.phone_number,
        "phone_uri": company.phone_uri,
        "helpdesk_email": conf.helpdesk_email(),
    }
