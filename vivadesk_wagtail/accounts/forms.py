"""Forms of the customer account area (activation, login, password reset)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.utils.translation import gettext_lazy as _

from ..mail import account_notifications
from ..services import customers


class ActivationForm(SetPasswordForm):
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


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class CustomerLoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("E-mail address or user name"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The e-mail address or the password is not correct, or the account "
            "has not been confirmed yet. If you have not confirmed your account, "
            "request a new activation link below."
        ),
    }


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the mail goes through the outbox (sent by the
    worker, in the customer's language) instead of inside the request."""

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
