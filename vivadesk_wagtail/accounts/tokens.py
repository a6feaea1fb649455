"""Activation links: signed, expiring, single-use."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import (
    base36_to_int,
    urlsafe_base64_decode,
    urlsafe_base64_encode,
)

from .. import conf


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """The generator has its own ``key_salt``, so a password-reset token does
    not work as an activation token, nor the reverse. The hashed state
    includes the password hash, ``is_active`` and the confirmation time: all
    change when the account is activated, so a used link stops working.
    Expiry is ``VIVADESK["ACTIVATION_MAX_AGE"]``; ``SECRET_KEY_FALLBACKS`` are
    honoured."""

    key_salt = "vivadesk_wagtail.accounts.tokens.ActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        profile = getattr(user, "helpdesk_profile", None)
        confirmed = profile.confirmed_at if profile else None
        return f"{user.pk}{user.password}{user.is_active}{confirmed}{timestamp}"

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        return self.signature_valid(user, token) and not self.is_expired(token)

    def is_expired(self, token: str) -> bool:
        try:
            ts = base36_to_int(token.split("-")[0])
        except (ValueError, AttributeError):
            return True
        age = self._num_seconds(self._now()) - ts
        return age > conf.get("ACTIVATION_MAX_AGE").total_seconds()

    def signature_valid(self, user, token) -> bool:
        """Whether the token was made for this user's current state, whatever
        its age (to tell "expired" from "invalid or used")."""
        try:
            ts = base36_to_int(token.split("-")[0])
        except (ValueError, AttributeError):
            return False
        return any(
            constant_time_compare(
                self._make_token_with_timestamp(user, ts, secret), token
            )
            for secret in [self.secret, *self.secret_fallbacks]
        )


activation_token = ActivationTokenGenerator()


def uid_for(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_for(uidb64: str):
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return get_user_model().objects.select_related("helpdesk_profile").get(pk=pk)
    except (TypeError, ValueError, OverflowError, get_user_model().DoesNotExist):
        return None
