"""Customers log in with their e-mail address.

Staff keep Django's username login (``ModelBackend``); this backend adds the
address of a customer profile. Unconfirmed accounts are inactive and cannot
log in through either.
"""

from django.contrib.auth.backends import ModelBackend

from .services.customers import find_profile


class CustomerEmailBackend(ModelBackend):
    """Finds the account by the address of its customer profile, never by
    ``username``: ``authenticate(email=…)`` (the customer login) asks this
    backend only, as Django's ``ModelBackend`` needs a ``username``; an
    address passed as ``username`` is looked up the same way."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        address = email or username
        if not address or not password or "@" not in address:
            return None
        profile = find_profile(address)
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
