"""The customer's account page: name, preferred language, password, and
"Your data" (``portal.privacy``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic.base import TemplateResponseMixin

from ..services import customers
from . import privacy
from .forms import AccountForm, PasswordForm


def _language_of(user) -> str:
    profile = getattr(user, "helpdesk_profile", None)
    codes = {code for code, _name in settings.LANGUAGES}
    if profile is not None and profile.language in codes:
        return profile.language
    return translation.get_language() or settings.LANGUAGE_CODE


class AccountPageMixin(TemplateResponseMixin):
    """The account page: the account form, the password form and the
    "Your data" section."""

    template_name = "vivadesk_wagtail/portal/account.html"
    form_class = AccountForm
    password_form_class = PasswordForm

    def show(self, account_form=None, password_form=None):
        user = self.request.user
        account_form = account_form or self.form_class(
            initial={"full_name": user.get_full_name(), "language": _language_of(user)}
        )
        password_form = password_form or self.password_form_class(user)
        # Mid-page autofocus would move screen readers away from the top.
        password_form.fields["old_password"].widget.attrs.pop("autofocus", None)
        return self.render_to_response(
            {
                "account_form": account_form,
                "password_form": password_form,
                **privacy.account_context(user),
            }
        )


@method_decorator(
    [require_http_methods(["GET", "HEAD", "POST"]), login_required], name="dispatch"
)
class AccountView(AccountPageMixin, View):
    def get(self, request):
        return self.show()

    def post(self, request):
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.show(account_form=form)
        language = form.cleaned_data["language"]
        customers.update_account(
            request.user, full_name=form.cleaned_data["full_name"], language=language
        )
        with translation.override(language):
            messages.success(request, _("Your account was saved."))
            url = reverse("vivadesk_wagtail:account")
        return redirect(url)


@method_decorator([require_POST, login_required], name="dispatch")
class ChangePasswordView(AccountPageMixin, View):
    def post(self, request):
        form = self.password_form_class(request.user, request.POST)
        if not form.is_valid():
            return self.show(password_form=form)
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password was changed."))
        return redirect(reverse("vivadesk_wagtail:account"))
