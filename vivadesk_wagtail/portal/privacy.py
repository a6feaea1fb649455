"""The customer's side of data protection: the "Your data" section of the
account page (:func:`account_context`), asking for an export or the
account's erasure, downloading the export, and the confirm and cancel pages
of the erasure links in mails.

Every change goes through ``services.data_requests``, only by POST with
CSRF. The erasure links work without login (a confirmed erasure deactivates
the account); their GET only shows what will happen (mail scanners open
links), the POST acts.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from .. import conf, ratelimits
from ..accounts import erasure_tokens
from ..accounts.views import rate_limited
from ..mail.notifications import validity
from ..models import DataRequest, DataRequestKind, DataRequestState
from ..services import customers, data_requests

TEMPLATES = "vivadesk_wagtail/portal/privacy"
#: The account page's section, the anchor the actions return to.
SECTION = "#your-data"


def account_context(user) -> dict:
    """What the "Your data" section of the account page shows (nothing for
    staff accounts, which the help desk neither exports nor erases)."""
    if customers.is_staff_user(user):
        return {"data_section": False}
    return {
        "data_section": True,
        "export": data_requests.latest_export(user),
        "grace": validity(conf.get("ERASURE_GRACE_PERIOD")),
        "erasure_tickets": conf.get("ERASURE_TICKETS"),
    }


def _customer(request):
    """The signed-in customer; a 404 for staff."""
    if customers.is_staff_user(request.user):
        raise Http404()
    return request.user


def _back():
    return redirect(reverse("vivadesk_wagtail:account") + SECTION)


@require_POST
@login_required
def request_export(request):
    """The "Download my data" button: queue an export (one at a time,
    rate-limited)."""
    user = _customer(request)
    if data_requests.active_export(user) is not None:
        messages.info(request, _in_progress())
        return _back()
    wait = ratelimits.export_wait(request)
    if wait:
        return rate_limited(request, retry_after=wait)
    try:
        data_requests.request_export(user)
    except data_requests.ExportInProgress:
        messages.info(request, _in_progress())
    else:
        messages.success(
            request,
            _(
                "Your data is being prepared. We will send you an e-mail as "
                "soon as you can download it here."
            ),
        )
    return _back()


def _in_progress() -> str:
    return _(
        "Your data is already being prepared. We will send you an e-mail as "
        "soon as you can download it; you can ask again after that."
    )


@require_POST
@login_required
def request_erasure(request):
    """The "Delete my account" button: mail a confirmation link
    (rate-limited); nothing changes before the link is used."""
    user = _customer(request)
    wait = ratelimits.erasure_mail_wait(request)
    if wait:
        return rate_limited(request, retry_after=wait)
    try:
        data_requests.request_erasure(user)
    except data_requests.RequestRefused:
        messages.error(request, _("The deletion of your account is already planned."))
        return _back()
    messages.success(
        request,
        _(
            "We have sent you an e-mail to %(email)s. Please confirm the "
            "deletion of your account with the link in it."
        )
        % {"email": customers.profile_of(user).email},
    )
    return _back()


def downloadable_export(user, pk: int) -> DataRequest:
    """The customer's own export ``pk`` while it can be downloaded; a 404
    for anything else (another customer's, pending, expired, staff)."""
    if customers.is_staff_user(user):
        raise Http404()
    export = DataRequest.objects.filter(
        pk=pk,
        user=user,
        kind=DataRequestKind.EXPORT,
        state=DataRequestState.READY,
        expires_at__gt=timezone.now(),
    ).first()
    if export is None or not export.file.name:
        raise Http404()
    return export


def export_filename(export: DataRequest) -> str:
    day = timezone.localdate(export.completed_at or export.created_at)
    return pgettext("file name of a data export", "vivadesk-data-%(date)s.zip") % {
        "date": day.isoformat()
    }


@require_safe
@login_required
def download_export(request, pk: int):
    """The export's archive from the private storage, as an attachment,
    never cached."""
    export = downloadable_export(request.user, pk)
    try:
        handle = export.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404() from exc
    response = FileResponse(handle, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(export)}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@method_decorator(never_cache, name="dispatch")
class ErasureLinkView(View):
    """A link of an erasure mail: the GET shows what will happen and one
    button, the POST acts. A link that is not valid, used or expired gets
    the "not valid" page (400, or 410 when expired)."""

    purpose: str = ""
    template_name = ""
    done_template_name = ""
    invalid_template_name = f"{TEMPLATES}/link_invalid.html"
    #: The state a request must be in for the link to act.
    acts_on = ""

    def dispatch(self, request, token: str):
        reading = erasure_tokens.read(token, self.purpose)
        self.data_request = reading.request
        problem = reading.problem or self.problem(reading.request)
        if problem:
            return self.refused(request, problem)
        return super().dispatch(request)

    def problem(self, data_request: DataRequest) -> str | None:
        if data_request.state != self.acts_on:
            return "used"
        return None

    def get(self, request):
        return TemplateResponse(request, self.template_name, self.context())

    def context(self) -> dict:
        return {
            "data_request": self.data_request,
            "grace": validity(conf.get("ERASURE_GRACE_PERIOD")),
            "erasure_tickets": conf.get("ERASURE_TICKETS"),
        }

    def refused(self, request, problem: str):
        return TemplateResponse(
            request,
            self.invalid_template_name,
            {
                "problem": problem,
                "purpose": self.purpose,
                "data_request": self.data_request,
            },
            status=410 if problem == "expired" else 400,
        )

    def done(self, request):
        self.data_request.refresh_from_db()
        return TemplateResponse(request, self.done_template_name, self.context())


class ConfirmErasureView(ErasureLinkView):
    """The link of the confirmation mail: after the POST the account is
    deactivated (and this browser logged out of it), erased at ``due_at``."""

    purpose = erasure_tokens.CONFIRM
    acts_on = DataRequestState.AWAITING
    template_name = f"{TEMPLATES}/erasure_confirm.html"
    done_template_name = f"{TEMPLATES}/erasure_confirmed.html"

    def post(self, request):
        try:
            data_requests.confirm_erasure(self.data_request)
        except data_requests.RequestRefused:
            return self.refused(request, "used")
        if request.user.is_authenticated and request.user.pk == (
            self.data_request.user_id
        ):
            logout(request)
        return self.done(request)


class CancelErasureView(ErasureLinkView):
    """The link of the "erasure scheduled" mail: until ``due_at`` the POST
    cancels the erasure (the account active again if it was)."""

    purpose = erasure_tokens.CANCEL
    acts_on = DataRequestState.SCHEDULED
    template_name = f"{TEMPLATES}/erasure_cancel.html"
    done_template_name = f"{TEMPLATES}/erasure_cancelled.html"

    def problem(self, data_request: DataRequest) -> str | None:
        problem = super().problem(data_request)
        if problem is None and data_request.due_at <= timezone.now():
            return "expired"
        return problem

    def post(self, request):
        try:
            data_requests.cancel_erasure(self.data_request)
        except data_requests.RequestRefused:
            return self.refused(request, "used")
        return self.done(request)
