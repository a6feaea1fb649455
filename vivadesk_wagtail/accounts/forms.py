"""Forms of the customer account area (activation, login, password reset)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.forms.auth import PasswordResetForm as WagtailPasswordResetForm

from .. import ratelimits
from ..mail import account_notifications
from ..services import customers

#: The confirmation field's help text: the help desk's own (in the German
#: catalogue with "dasselbe", where Django's says "das selbe").
SAME_PASSWORD = pgettext_lazy(
    "password confirmation", "Enter the same password as before, for verification."
)


class ConfirmedPasswordMixin:
    """A new password typed twice; the second field's help text is
    :data:`SAME_PASSWORD`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password2"].help_text = SAME_PASSWORD


class CustomerSetPasswordForm(ConfirmedPasswordMixin, SetPasswordForm):
    """The new password after a reset link."""


class ActivationForm(ConfirmedPasswordMixin, SetPasswordForm):
    """Full name and password: what completes an account (Django's password
    validators apply, including "too similar to the e-mail address")."""

    full_name = forms.CharField(
        label=_("Full name"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    field_order = ["full_name", "new_password1", "new_password2"]

    def clean_full_name(self):
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError(_("Please enter your full name."))
        return name

    def save(self, commit=True):
        customers.confirm(
            self.user,
            full_name=self.cleaned_data["full_name"],
            password=self.cleaned_data["new_password1"],
        )
        return self.user


#: Django's own message says "email"; the help desk writes "e-mail".
ADDRESS_ERRORS = {"invalid": _("Enter a valid e-mail address.")}


def address_field(**attrs) -> forms.EmailField:
    """The e-mail address field of every account form ("E-Mail-Adresse")."""
    return forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        error_messages=ADDRESS_ERRORS,
        widget=forms.EmailInput(attrs={"autocomplete": "email", **attrs}),
    )


class EmailForm(forms.Form):
    email = address_field()


class CustomerLoginForm(AuthenticationForm):
    """The customer login: the e-mail address of the account and its
    password. Customers have no user name of their own, so the account is
    found by its address only (``auth.CustomerEmailBackend``), whatever its
    ``username``; staff log in to the admin instead. The field keeps
    Django's name ``username`` (the login throttle counts by it)."""

    username = address_field(autofocus=True)
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The e-mail address or the password is not correct, or the account "
            "has not been confirmed yet. If you have not confirmed your account, "
            "request a new activation link below."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sizes the field after the user name (150 characters).
        field = self.fields["username"]
        field.max_length = 254
        field.widget.attrs["maxlength"] = "254"

    def clean(self):
        address = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if address and password:
            self.user_cache = authenticate(
                self.request, email=address, password=password
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ThrottledPasswordResetMixin:
    """A password-reset form that mails nothing once the client IP or the
    address is over its limit (``ratelimits.password_reset_limited``). The
    view answers as always ("if the address is known, a link is on its
    way"), so the answer tells nobody whether the limit or the address
    stopped the mail."""

    def save(self, *args, request=None, **kwargs):
        if ratelimits.password_reset_limited(request, self.cleaned_data["email"]):
            return None
        return super().save(*args, request=request, **kwargs)


class AdminPasswordResetForm(ThrottledPasswordResetMixin, WagtailPasswordResetForm):
    """Wagtail's admin password reset with the same limits (the host site
    names it in ``WAGTAILADMIN_USER_PASSWORD_RESET_FORM``). Like Django's, it
    serves only active accounts with a usable password, so it cannot
    activate a customer account."""


class OutboxPasswordResetForm(ThrottledPasswordResetMixin, PasswordResetForm):
    """Django's reset form for customers: the account is found as the
    customer login finds it (by the profile's address), never a staff
    address or account, never a deactivated one; the mail goes through the
    outbox (sent by the worker, in the customer's language) instead of
    inside the request."""

    email = address_field()

    def get_users(self, email):
        if customers.is_staff_address(email):
            return
        profile = customers.find_profile(email)
        if profile is not None and customers.may_reset_password(profile.user):
            yield profile.user

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        account_notifications.queue("password_reset", context["user"])
