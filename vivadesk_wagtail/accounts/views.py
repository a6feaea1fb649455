"""Customer account views and the throttled Wagtail admin login.

Activation, a new activation link and the password reset serve customer
accounts only: never staff, and never an account an admin deactivated
(``customers.awaiting_confirmation`` / ``customers.may_reset_password``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from wagtail.admin.views import account as wagtail_account

from .. import ratelimits
from ..mail import account_notifications
from ..services import customers
from .forms import ActivationForm, CustomerLoginForm, EmailForm, OutboxPasswordResetForm
from .tokens import activation_token, user_for

TEMPLATES = "vivadesk_wagtail/accounts"


def rate_limited(request, exception=None):
    """Response of every rate-limited help-desk request (``RATELIMIT_VIEW``)."""
    return render(request, f"{TEMPLATES}/rate_limited.html", status=429)


@method_decorator([never_cache, sensitive_post_parameters()], name="dispatch")
class ActivateView(View):
    """Set a password and confirm the account from the activation link.

    The GET only shows the form (mail scanners prefetch links); the POST
    checks the token again, completes the account, logs the customer in
    (``login()`` rotates the session key) and lands them on "My requests".
    """

    template_name = f"{TEMPLATES}/activate.html"
    #: Shown for a link that is not valid (400) or expired (410).
    invalid_template_name = f"{TEMPLATES}/activation_invalid.html"
    form_class = ActivationForm
    #: The form on the "not valid" page, asking for a new link.
    resend_form_class = EmailForm

    def dispatch(self, request, uidb64: str, token: str):
        self.user = user_for(uidb64)
        self.token = token
        return super().dispatch(request)

    def problem(self) -> str | None:
        user, token = self.user, self.token
        if user is None or not token or not customers.awaiting_confirmation(user):
            return "invalid"
        if not activation_token.signature_valid(user, token):
            return "invalid"
        if activation_token.is_expired(token):
            return "expired"
        return None

    def get(self, request):
        problem = self.problem()
        if problem:
            return self.refused(request, problem)
        return self.show(request, self.form_class(self.user))

    def post(self, request):
        problem = self.problem()
        if problem:
            return self.refused(request, problem)
        form = self.form_class(self.user, request.POST)
        if not form.is_valid():
            return self.show(request, form)
        try:
            user = form.save()
        except customers.NotAwaitingConfirmationError:
            return self.refused(request, "invalid")  # changed since the check
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return _redirect_after_login()

    def show(self, request, form):
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "email": self.user.helpdesk_profile.email},
        )

    def refused(self, request, problem: str):
        return TemplateResponse(
            request,
            self.invalid_template_name,
            {"problem": problem, "form": self.resend_form_class()},
            status=400 if problem == "invalid" else 410,
        )


def _redirect_after_login():
    return HttpResponseRedirect(resolve_url(settings.LOGIN_REDIRECT_URL))


@method_decorator(never_cache, name="dispatch")
class ResendActivationView(View):
    """Send a new activation link. The answer is the same whether the address
    has an unconfirmed account, a confirmed, deactivated or staff one, or
    none at all; only the first gets a link, and never at a staff address."""

    template_name = f"{TEMPLATES}/activation_resend.html"
    #: The answer after a valid post, the same for every address.
    done_template_name = f"{TEMPLATES}/activation_sent.html"
    form_class = EmailForm

    def get(self, request):
        return self.show(request, self.form_class())

    def post(self, request):
        if ratelimits.activation_resend_limited(request):
            return rate_limited(request)
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.show(request, form)
        email = form.cleaned_data["email"]
        if not customers.is_staff_address(email):
            profile = customers.find_profile(email)
            if profile is not None:
                account_notifications.queue("activation", profile.user)
        return TemplateResponse(request, self.done_template_name, {})

    def show(self, request, form):
        return TemplateResponse(request, self.template_name, {"form": form})


#: The same words whether the account exists, is unconfirmed or unknown.
LOGIN_THROTTLED_MESSAGE = _(
    "Too many login attempts. Please wait a few minutes and try again."
)


class ThrottledLoginMixin:
    """Login attempts (POSTs) are counted per client IP and per submitted user
    name (``ratelimits.login_retry_after``). Over a limit the password is not
    checked: the login page comes back with a neutral message, status 429 and
    ``Retry-After``. The windows are fixed, so nobody is locked out for good.
    """

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        wait = ratelimits.login_retry_after(request, username)
        if wait:
            return self.throttled(username, wait)
        return super().post(request, *args, **kwargs)

    def throttled(self, username: str, wait: int):
        # Validating the posted form would check the password, so an unbound
        # form (the name filled in again) carries the message as its only error.
        form = self.get_form_class()(self.request, initial={"username": username})
        form.cleaned_data = {}
        form.add_error(None, LOGIN_THROTTLED_MESSAGE)
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response


class LoginView(ThrottledLoginMixin, auth_views.LoginView):
    template_name = f"{TEMPLATES}/login.html"
    authentication_form = CustomerLoginForm
    redirect_authenticated_user = True


class AdminLoginView(ThrottledLoginMixin, wagtail_account.LoginView):
    """Wagtail's admin login with the same limits; the host site routes
    ``admin/login/`` here ahead of ``include(wagtailadmin_urls)``."""


class PasswordResetView(auth_views.PasswordResetView):
    template_name = f"{TEMPLATES}/password_reset.html"
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("vivadesk_wagtail:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = f"{TEMPLATES}/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A reset link works only for an account the customer reset serves: a
    link to a staff account, or one an admin deactivated since the link was
    sent, is "not valid" and changes nothing."""

    template_name = f"{TEMPLATES}/password_reset_confirm.html"
    success_url = reverse_lazy("vivadesk_wagtail:password_reset_complete")
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if customers.may_reset_password(user) else None


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = f"{TEMPLATES}/password_reset_complete.html"
