"""Customer accounts: found or created by e-mail address, confirmed later.
Addresses are normalised once (:func:`normalize_email`) and matched
case-insensitively, backed by a unique index on ``lower(email)``.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .. import statements
from ..mail.parsing import ascii_domain
from ..models import CustomerProfile
from ..models.customers import profile_width, user_with_profile, with_profile_columns


class InvalidAddressError(ValueError):
    pass


def normalize_email(address: str) -> str:
    """``local@domain`` with the domain in lower-case IDNA ASCII (local part
    kept as typed). Look-alike addresses (dotless ı, fullwidth letters) are
    refused, never folded onto an existing account.

    Local parts must be ASCII (as Django's ``EmailValidator`` requires): then
    every database folds case the same way. A non-ASCII local part (``mıke``,
    fullwidth letters) is refused rather than folded, so it can never reach
    another account through a database's Unicode case rules. So is a domain
    that IDNA would change other than by case (``ｅxample.com``, a soft
    hyphen or zero-width character) or one with a label mixing scripts
    (``mail.parsing.ascii_domain``, the rule the inbound sender obeys too).
    """
    address = (address or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or not local.isascii():
        raise InvalidAddressError(address)
    try:
        domain = ascii_domain(domain)
    except ValueError as exc:  # UnicodeError, LookalikeDomainError
        raise InvalidAddressError(address) from exc
    return f"{local}@{domain}"


def find_profile(
    address: str, *, lock: bool = False, **annotations
) -> CustomerProfile | None:
    """The profile of ``address`` with its user; ``annotations`` (``RawSQL``
    by name) are read in the same query and set on the profile. ``lock``
    takes the profile's row lock (on backends that have row locks) until
    the caller's transaction ends.

    One statement in SQL (``statements``): the inbound pipeline asks this
    for every new mail, and the ORM took far longer to build the query and
    its objects than running it takes (docs/benchmarks.md)."""
    try:
        email = normalize_email(address)
    except InvalidAddressError:
        return None
    names = list(annotations)
    sql = (
        f"SELECT {with_profile_columns()}"
        + "".join(f", ({annotations[name].sql})" for name in names)
        + f" FROM {statements.table(CustomerProfile)}"
        f" INNER JOIN {statements.table(get_user_model())}"
        f" ON {statements.column(get_user_model(), 'pk')}"
        f" = {statements.column(CustomerProfile, 'user')}"
        f" WHERE LOWER({statements.column(CustomerProfile, 'email')}) = %s LIMIT 1"
    )
    connection = statements.connection_for(CustomerProfile)
    if lock and connection.features.has_select_for_update_of:
        sql += " " + connection.ops.for_update_sql(
            of=(statements.table(CustomerProfile),)
        )
    params = [p for name in names for p in annotations[name].params]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, email.lower()])
        row = cursor.fetchone()
    if row is None:
        return None
    _user, profile = user_with_profile(row)
    for name, value in zip(names, row[profile_width() :], strict=True):
        setattr(profile, name, value)
    return profile


def is_address_of(profile: CustomerProfile | None, address: str) -> bool:
    """Whether ``address`` is ``profile``'s, matched as :func:`find_profile`
    matches (for a profile read already, e.g. with its ticket)."""
    if profile is None:
        return False
    try:
        email = normalize_email(address)
    except InvalidAddressError:
        return False
    return email.lower() == profile.email.lower()


def is_staff_address(address: str) -> bool:
    """Whether ``address`` belongs to a staff user or a superuser, active or
    not (DESIGN.md decision 9: staff never pass through the customer flow)."""
    try:
        email = normalize_email(address)
    except InvalidAddressError:
        return False
    return (
        get_user_model()
        .objects.filter(Q(is_staff=True) | Q(is_superuser=True), email__iexact=email)
        .exists()
    )


def is_staff_user(user) -> bool:
    """Staff users and superusers: never served by the customer flow."""
    return bool(user.is_staff or user.is_superuser)


#: The account anonymised tickets belong to (``services.erasure``):
#: inactive, no name, no address, no usable password, no help-desk profile
#: (so no mail is ever written to it), created on first use.
PLACEHOLDER_USERNAME = "vivadesk-anonymised"


def is_placeholder(user) -> bool:
    """Whether ``user`` is the account anonymised tickets belong to."""
    return user is not None and user.get_username() == PLACEHOLDER_USERNAME


def existing_profile(user) -> CustomerProfile | None:
    """The user's profile if there is one (never creates it)."""
    return getattr(user, "helpdesk_profile", None)


def awaiting_confirmation(user) -> bool:
    """Whether ``user`` is a customer who has never confirmed the account: the
    only state an activation link, a new link or an activation may act on.

    Such an account is inactive, has a profile without ``confirmed_at``, no
    usable password and no ``last_login`` (as :func:`get_or_create_customer`
    made it). Any other inactive account was deactivated by staff and stays
    so; staff users and superusers never qualify (DESIGN.md decision 9).
    """
    if user is None or user.is_active or is_staff_user(user):
        return False
    if user.has_usable_password() or user.last_login is not None:
        return False
    profile = existing_profile(user)
    return profile is not None and profile.confirmed_at is None


def may_reset_password(user) -> bool:
    """Whether the customer password reset may serve ``user``: an active
    customer account with a password, not staff (staff use the admin's
    reset) and not deactivated."""
    if user is None or not user.is_active or is_staff_user(user):
        return False
    return user.has_usable_password() and existing_profile(user) is not None


def _username_for(email: str) -> str:
    lowered = email.lower()
    if len(lowered) <= 150:
        return lowered
    return "customer-" + hashlib.sha256(lowered.encode()).hexdigest()[:32]


def get_or_create_customer(address: str, *, name: str = "", language: str = ""):
    """Return ``(user, created)`` for an address; a new account is inactive,
    unconfirmed and has no usable password until it is activated."""
    email = normalize_email(address)
    profile = find_profile(email)
    if profile is not None:
        return profile.user, False
    first, _sep, last = (name or "").strip().partition(" ")
    user_model = get_user_model()
    try:
        with transaction.atomic():
            user = user_model(
                username=_username_for(email),
                email=email,
                first_name=first[:150],
                last_name=last[:150],
                is_active=False,
            )
            user.set_unusable_password()
            user.save()
            CustomerProfile.objects.create(user=user, email=email, language=language)
    except IntegrityError:
        profile = find_profile(email)
        if profile is None:
            raise
        return profile.user, False
    return user, True


def profile_of(user) -> CustomerProfile:
    """The profile of a user, created on first use for accounts made elsewhere
    (staff users, accounts from another app)."""
    try:
        return user.helpdesk_profile
    except CustomerProfile.DoesNotExist:
        profile, _created = CustomerProfile.objects.get_or_create(
            user=user, defaults={"email": normalize_email(user.email)}
        )
        return profile


def _set_name(user, full_name: str) -> None:
    first, _sep, last = " ".join(full_name.split()).partition(" ")
    user.first_name, user.last_name = first[:150], last[:150]


@transaction.atomic
def update_account(user, *, full_name: str, language: str) -> None:
    """Save the customer's name and preferred language (UI and mails)."""
    _set_name(user, full_name)
    user.save(update_fields=["first_name", "last_name"])
    profile = profile_of(user)
    if profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])


class NotAwaitingConfirmationError(ValueError):
    """The account is not one waiting for its activation (see
    :func:`awaiting_confirmation`)."""


@transaction.atomic
def confirm(user, *, full_name: str, password: str) -> None:
    """Complete an activation: name, password, active and confirmed. Only an
    account :func:`awaiting_confirmation` can be confirmed."""
    if not awaiting_confirmation(user):
        raise NotAwaitingConfirmationError(user.pk)
    _set_name(user, full_name)
    user.set_password(password)
    user.is_active = True
    user.save()
    profile = profile_of(user)
    if profile.confirmed_at is None:
        profile.confirmed_at = timezone.now()
        profile.save(update_fields=["confirmed_at"])
