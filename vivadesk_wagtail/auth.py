"""Customers log in with their e-mail address.

Staff keep Django's username login (``ModelBackend``); this backend adds the
address of a customer profile. Unconfirmed accounts are inactive and cannot
log in through either.
"""

from django.contrib.auth.backends import ModelBackend

from .services.customers import find_profile


class CustomerEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password or "@" not in username:
            return None
        profile = find_profile(username)
        if profile is None:
            # Run the hasher anyway so timing does not tell which addresses exist.
            self.dummy_user_model()().set_password(password)
            return None
        user = profile.user
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    @staticmethod
    def dummy_user_model():
        from django.contrib.auth import get_user_model

        return get_user_model()
