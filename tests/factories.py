"""Test data through the same services the product uses (factory-boy for the
plain rows, ``services`` for anything that carries ticket state)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from vivadesk_wagtail.models import Channel, MessageKind
from vivadesk_wagtail.services import customers, tickets


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@viva.de")
    is_staff = True
    password = factory.django.Password("agent-pass-123")


def customer(
    email: str = "kunde@example.com",
    *,
    confirmed: bool = True,
    language: str = "de",
    name: str = "Erika Mustermann",
):
    """A customer account, confirmed (with password ``kunden-pass-123``) or not."""
    user, _created = customers.get_or_create_customer(
        email, name=name, language=language
    )
    if confirmed and not user.is_active:
        customers.confirm(user, full_name=name, password="kunden-pass-123")
    return user


def ticket(
    customer_user=None,
    *,
    subject: str = "Drucker druckt nicht",
    body: str = "Seit gestern druckt der Drucker nicht mehr.",
    language: str = "de",
    channel: str = Channel.WEB,
    **kwargs,
):
    customer_user = customer_user or customer()
    return tickets.open_ticket(
        customer=customer_user,
        subject=subject,
        first=tickets.NewMessage(
            body=body,
            kind=MessageKind.CUSTOMER,
            channel=channel,
            author=customer_user,
            **kwargs,
        ),
        language=language,
    )


def now():
    return timezone.now()
