"""Agents' actions on held mail (the held-mail screen): accept it as a reply
to a ticket or as a new ticket, discard it, or run it through the pipeline
again. Each locks the row and acts only while it is still held, so a second
click changes nothing."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import signals
from ..mail import parsing, rawmail
from ..mail.parsing import ParsedMail
from ..models import InboundMail, InboundOutcome, InboundState, MessageKind, Ticket
from . import customers, tickets
from .inbound import Decision, build_message, open_from_mail, save_decision

logger = logging.getLogger(__name__)


class HeldMailError(ValueError):
    """The action cannot be applied to this mail (shown to staff)."""


def _lock_held(pk: int) -> InboundMail | None:
    row = InboundMail.objects.select_for_update().get(pk=pk)
    return row if row.state == InboundState.HELD else None


def _parsed(row: InboundMail) -> ParsedMail:
    raw = row.read_raw()
    if not rawmail.looks_like_mail(raw):
        raise HeldMailError(gettext("This file is not a mail and cannot be accepted."))
    try:
        return parsing.parse(raw)
    except Exception as exc:  # noqa: BLE001 - malformed mail cannot be accepted
        raise HeldMailError(gettext("This mail cannot be read: %s") % exc) from exc


def _finish(row: InboundMail, decision: Decision, by) -> InboundMail:
    save_decision(row, decision)
    logger.info("Held mail %s: %s by %s", row.pk, decision.outcome, by)
    return row


@transaction.atomic
def accept_as_reply(pk: int, ticket: Ticket, *, by) -> InboundMail:
    """Add a held mail to ``ticket`` as a customer message (idempotent)."""
    row = _lock_held(pk)
    if row is None:
        return InboundMail.objects.get(pk=pk)
    parsed = _parsed(row)
    profile = customers.find_profile(parsed.sender) if parsed.sender else None
    author = profile.user if profile else None
    new, notes = build_message(row, parsed, MessageKind.CUSTOMER, author)
    try:
        message = tickets.add_message(ticket, new)
    except tickets.TicketClosedError as exc:
        raise HeldMailError(gettext("The ticket is closed.")) from exc
    decision = Decision(
        InboundState.DONE, InboundOutcome.REPLY, "accepted", ticket, message
    )
    decision.notes = notes
    return _finish(row, decision, by)


@transaction.atomic
def accept_as_new_ticket(pk: int, *, by) -> InboundMail:
    """Open a ticket for the sender, creating (unconfirmed) their account if
    needed; its confirmation mail carries the activation link."""
    row = _lock_held(pk)
    if row is None:
        return InboundMail.objects.get(pk=pk)
    parsed = _parsed(row)
    if not parsed.sender:
        raise HeldMailError(gettext("The sender address is not usable."))
    if customers.is_staff_address(parsed.sender):
        raise HeldMailError(
            gettext(
                "This is the address of a staff account: it cannot open a "
                "ticket as a customer."
            )
        )
    try:
        user, _created = customers.get_or_create_customer(parsed.sender)
    except customers.InvalidAddressError as exc:
        raise HeldMailError(gettext("The sender address is not usable.")) from exc
    profile = customers.profile_of(user)
    decision = open_from_mail(row, parsed, user, profile.language)
    decision.reason = "accepted"
    return _finish(row, decision, by)


@transaction.atomic
def discard(pk: int, *, by) -> InboundMail:
    row = _lock_held(pk)
    if row is None:
        return InboundMail.objects.get(pk=pk)
    decision = Decision(InboundState.DISCARDED, row.outcome, row.reason, row.ticket)
    return _finish(row, decision, by)


def reprocess(pk: int, *, by) -> InboundMail:
    """Run a held mail through the pipeline again (after a fix, or once the
    sender confirmed their account), with a fresh count of attempts."""
    with transaction.atomic():
        updated = InboundMail.objects.filter(pk=pk, state=InboundState.HELD).update(
            state=InboundState.PENDING,
            attempts=0,
            next_attempt_at=None,
            updated_at=timezone.now(),
        )
    if updated:
        logger.info("Held mail %s queued again by %s", pk, by)
        # Its receiver runs the pipeline (``mail.inbound.process``) now.
        signals.inbound_released.send(InboundMail, pk=pk)
    return InboundMail.objects.get(pk=pk)
