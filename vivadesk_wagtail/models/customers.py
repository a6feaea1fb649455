"""The help-desk side of a customer's account (one profile per Django user)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .. import statements


class CustomerProfileQuerySet(models.QuerySet):
    def for_address(self, email: str) -> CustomerProfileQuerySet:
        """The profile of ``email`` (normalised), in any case: compares
        ``lower(email)``, which the unique index covers (``iexact`` would be a
        ``LIKE``, scanning the table)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.lower())


class CustomerProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="helpdesk_profile",
    )
    #: The address mail goes to and comes from; unique regardless of case.
    email = models.EmailField(_("e-mail address"), max_length=254)
    language = models.CharField(_("preferred language"), max_length=12, blank=True)
    #: When the customer completed the activation; ``None`` = unconfirmed.
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    #: Set when mail to the address bounced permanently; no more mail goes out.
    mail_undeliverable = models.BooleanField(_("mail undeliverable"), default=False)
    #: When and why the address was marked undeliverable (the SMTP answer or
    #: the delivery-status report), for the agents who may clear the flag.
    undeliverable_since = models.DateTimeField(
        _("undeliverable since"), null=True, blank=True
    )
    undeliverable_detail = models.TextField(_("why undeliverable"), blank=True)
    #: The bounce (a delivery-status report) that marked the address, if any.
    undeliverable_bounce = models.ForeignKey(
        "vivadesk_wagtail.InboundMail",
        verbose_name=_("bounce"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerProfileQuerySet.as_manager()

    #: Help-desk rows are never "used" by pages or snippets: saving one skips
    #: Wagtail's reference index.
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")
        constraints = [
            models.UniqueConstraint(
                Lower("email"), name="vivadesk_customer_email_ci_unique"
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


# The SELECT list of a user with their profile, for the statements of
# ``services.customers`` and ``mail.threading`` that read both in one row.


def with_profile_columns() -> str:
    """The SELECT list of a user and their profile (outer-joined as the
    profile's table), read back by :func:`user_with_profile`."""
    return (
        f"{statements.columns(get_user_model())}, {statements.columns(CustomerProfile)}"
    )


def profile_width() -> int:
    """How many values :func:`with_profile_columns` selects."""
    return statements.width(get_user_model()) + statements.width(CustomerProfile)


def user_with_profile(values):
    """``(user, profile)`` from the start of a row that begins with
    :func:`with_profile_columns`; each cached on the other, as
    ``select_related`` leaves them (profile ``None`` if there is none)."""
    cut = statements.width(get_user_model())
    user = statements.load(get_user_model(), values[:cut])
    profile = statements.load(CustomerProfile, values[cut : profile_width()])
    link = CustomerProfile._meta.get_field("user")
    link.remote_field.set_cached_value(user, profile)
    if profile is not None:
        link.set_cached_value(profile, user)
    return user, profile
