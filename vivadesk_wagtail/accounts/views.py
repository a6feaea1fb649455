"""Customer account views and the throttled Wagtail admin login.

Activation, a new activation link and the password reset serve customer
accounts only: never staff, and never an account an admin deactivated
(``customers.awaiting_confirmation`` / ``customers.may_reset_password``).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from wagtail.admin.views import account as wagtail_account

from .. import ratelimits
from ..mail import account_notifications
from ..services import customers
from .forms import (
    ActivationForm,
    CustomerLoginForm,
    CustomerSetPasswordForm,
    EmailForm,
    OutboxPasswordResetForm,
)
from .tokens import activation_token, user_for

TEMPLATES = "vivadesk_wagtail/accounts"


#: The "too many requests" page: a host site's own ``429.html`` (beside its
#: ``404.html`` and ``500.html``) where it has one, else the help desk's.
RATE_LIMITED_TEMPLATES = ["429.html", f"{TEMPLATES}/rate_limited.html"]


def rate_limited(request, exception=None, *, retry_after: int = 0):
    """Response of every rate-limited help-desk request that has no form to
    show again (``RATELIMIT_VIEW``): status 429, with ``Retry-After`` when
    the limiter knows the seconds to wait (``retry_after``)."""
    context = {"retry_after": retry_after}
    if retry_after:
        context["retry_minutes"] = max(1, math.ceil(retry_after / 60))
    response = render(request, RATE_LIMITED_TEMPLATES, context, status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@method_decorator([never_cache, sensitive_post_parameters()], name="dispatch")
class ActivateView(View):
    """Set a password and confirm the account from the activation link.

    The GET only shows the form, with the name the customer gave in the
    contact form (mail scanners prefetch links); the POST checks the token
    again, completes the account, logs the customer in (``login()`` rotates
    the session key) and lands them on "My requests". The link of an account
    that is confirmed already says so (:meth:`already_confirmed`).
    """

    template_name = f"{TEMPLATES}/activate.html"
    #: Shown for a link that is not valid (400) or expired (410).
    invalid_template_name = f"{TEMPLATES}/activation_invalid.html"
    #: Shown for the link of a confirmed account to a visitor not logged in.
    confirmed_template_name = f"{TEMPLATES}/activation_confirmed.html"
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
        if _confirmed_customer(self.user):
            return self.already_confirmed(request)
        problem = self.problem()
        if problem:
            return self.refused(request, problem)
        initial = {"full_name": self.user.get_full_name()}
        return self.show(request, self.form_class(self.user, initial=initial))

    def post(self, request):
        if _confirmed_customer(self.user):
            return self.already_confirmed(request)
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
        messages.success(
            request,
            gettext(
                "Your account is confirmed. Here you can follow your requests "
                "and send new ones."
            ),
        )
        return _redirect_after_login()

    def show(self, request, form):
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "email": self.user.helpdesk_profile.email},
        )

    def already_confirmed(self, request):
        """The answer for the link of a confirmed account: the token can no
        longer be checked (it was made for the state before the
        confirmation), so it logs nobody in. The customer logged in to this
        account goes on to "My requests"; a visitor not logged in gets the
        login link (status 400 as before: the link itself does nothing any
        more); a customer logged in to another account the "not valid"
        page."""
        current = request.user
        if current.is_authenticated and current.pk != self.user.pk:
            return self.refused(request, "invalid")
        if current.is_authenticated:
            messages.info(request, ALREADY_CONFIRMED_MESSAGE)
            return _redirect_after_login()
        return TemplateResponse(
            request,
            self.confirmed_template_name,
            {"message": ALREADY_CONFIRMED_MESSAGE},
            status=400,
        )

    def refused(self, request, problem: str):
        return TemplateResponse(
            request,
            self.invalid_template_name,
            {"problem": problem, "form": self.resend_form_class()},
            status=400 if problem == "invalid" else 410,
        )


#: The answer to an activation link of a confirmed account.
ALREADY_CONFIRMED_MESSAGE = _("Your account is already confirmed.")


def _confirmed_customer(user) -> bool:
    """Whether ``user`` is an active customer account that has been confirmed
    (never staff, never an account an admin deactivated)."""
    if user is None or not user.is_active or customers.is_staff_user(user):
        return False
    profile = customers.existing_profile(user)
    return profile is not None and profile.confirmed_at is not None


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
        wait = ratelimits.activation_resend_wait(request)
        if wait:
            return rate_limited(request, retry_after=wait)
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


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only), saying so on the page it lands on."""

    def post(self, request, *args, **kwargs):
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            messages.info(
                request,
                gettext(
                    "You have been logged out. To see your requests again, "
                    "log in at the top of the page."
                ),
            )
        return response


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
    sent, is "not valid" and changes nothing. The new password logs the
    customer in and leads on to "My requests", with a message."""

    template_name = f"{TEMPLATES}/password_reset_confirm.html"
    form_class = CustomerSetPasswordForm
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if customers.may_reset_password(user) else None

    def get_success_url(self):
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request,
            gettext("Your new password has been saved and you are logged in."),
        )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = f"{TEMPLATES}/password_reset_complete.html"
