"""The page behind the rating links of the "Done" mail.

No login: the signed link is the credential, and it decides alone (a
customer signed in to another account changes nothing). The GET only shows
the ticket's reference and subject, the preselected choice, a comment box
and one button, and stores nothing (mail scanners open every link); the
POST (CSRF, rate-limited) stores the rating through
``services.satisfaction``. The page is never cached and sends no referrer
to other sites: the token is in its URL.
"""

from __future__ import annotations

from django import forms
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views import View
from django_ratelimit.core import get_usage

from ..accounts.views import rate_limited
from ..models import Rating
from ..ratelimits import client_ip
from ..services import satisfaction
from . import satisfaction_tokens

TEMPLATES = "vivadesk_wagtail/portal"
#: Rating posts per client IP, and per ticket (django-ratelimit rates).
RATE_PER_IP = "30/h"
RATE_PER_TICKET = "10/h"

#: What the form says when the service refuses a rating.
REFUSALS = {
    satisfaction.PERIOD_OVER: _(
        "Your rating can no longer be changed: the time to change it has passed."
    ),
    satisfaction.NOT_FINISHED: _(
        "This request is open again. You can rate it once it is done."
    ),
    satisfaction.MERGED: _(
        "This request was merged into another one; please rate that one."
    ),
    satisfaction.TOO_LONG: _("Your comment is too long."),
    satisfaction.UNKNOWN_RATING: _("Please choose a rating."),
}


class RatingForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("How satisfied are you with our help?"),
        choices=[
            (Rating.GOOD, _("Good: I am satisfied")),
            (Rating.BAD, _("Bad: I am not satisfied")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose a rating.")},
    )
    comment = forms.CharField(
        label=_("Your comment"),
        help_text=_("Optional. What went well, what could we do better?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=satisfaction.MAX_COMMENT,
        required=False,
    )


def _posts_wait(request, group: str, key: str, rate: str) -> int:
    """Count one post; 0 within ``rate``, else the seconds to wait."""
    usage = get_usage(
        request,
        group=f"vivadesk.{group}",
        key=lambda _group, _request: key,
        rate=rate,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return 0
    return max(usage["time_left"], 1)


def _private(response):
    """No copy in any cache, and the URL (with its token) never sent as the
    referrer to another site. ``same-origin`` rather than ``no-referrer``:
    under ``no-referrer`` browsers send ``Origin: null`` with the form's
    POST, which Django's CSRF check refuses."""
    patch_cache_control(response, private=True, no_store=True)
    response["Referrer-Policy"] = "same-origin"
    return response


class RateView(View):
    """One ticket's rating page (``<token>?choice=good|bad``)."""

    template_name = f"{TEMPLATES}/satisfaction.html"
    thanks_template_name = f"{TEMPLATES}/satisfaction_thanks.html"
    #: Shown for a link that is not valid (400) or expired (410).
    invalid_template_name = f"{TEMPLATES}/satisfaction_invalid.html"
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, token: str):
        if request.method == "POST":
            wait = _posts_wait(request, "rating-ip", client_ip(request), RATE_PER_IP)
            if wait:
                return _private(rate_limited(request, retry_after=wait))
        reading = satisfaction_tokens.read(token)
        if reading.problem:
            return _private(self.refused(request, reading.problem))
        self.ticket = reading.ticket
        self.rating = satisfaction.current(self.ticket)
        return _private(super().dispatch(request))

    def get(self, request):
        choice = request.GET.get(satisfaction_tokens.CHOICE)
        if choice not in Rating.values:
            choice = self.rating.rating if self.rating else None
        initial = {"rating": choice}
        if self.rating:
            initial["comment"] = self.rating.comment
        return self.show(request, RatingForm(initial=initial))

    def post(self, request):
        key = str(self.ticket.pk)
        wait = _posts_wait(request, "rating-ticket", key, RATE_PER_TICKET)
        if wait:
            return rate_limited(request, retry_after=wait)
        form = RatingForm(request.POST)
        if not form.is_valid():
            return self.show(request, form, status=400)
        try:
            result = satisfaction.rate(
                self.ticket, form.cleaned_data["rating"], form.cleaned_data["comment"]
            )
        except satisfaction.RatingRefused as exc:
            form.add_error(None, REFUSALS[exc.reason])
            self.rating = satisfaction.current(self.ticket)
            return self.show(request, form, status=409)
        return TemplateResponse(
            request, self.thanks_template_name, self.context(result.rating)
        )

    def context(self, rating) -> dict:
        """The page's context: of the ticket only its reference and subject."""
        return {
            "reference": self.ticket.reference,
            "subject": self.ticket.subject,
            "rating": rating,
            "rating_label": Rating(rating.rating).label if rating else "",
            "change_until": satisfaction.change_until(rating) if rating else None,
            "changeable": rating is None or satisfaction.changeable(rating),
            "blocked": satisfaction.not_rateable(self.ticket),
        }

    def show(self, request, form, status: int = 200):
        context = self.context(self.rating)
        context["form"] = form
        return TemplateResponse(request, self.template_name, context, status=status)

    def refused(self, request, problem: str):
        return TemplateResponse(
            request,
            self.invalid_template_name,
            {"problem": problem},
            status=410 if problem == satisfaction_tokens.EXPIRED else 400,
        )
