"""The help desk's receivers, connected once from ``VivadeskConfig.ready()``
(:func:`register_signal_handlers`).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django_mailbox.signals import message_received

from . import signals
from .mail import account_notifications, notifications
from .mail import inbound as inbound_mail
from .models import DataRequest, InboundMail, ServiceTarget, Ticket
from .services import search_index, service_targets


def notify_ticket_opened(sender, ticket, message, acknowledge=True, **kwargs):
    notifications.queue(
        "ticket_created", ticket, message=message, acknowledge=acknowledge
    )


def notify_message_added(sender, ticket, message, **kwargs):
    notifications.queue("message_added", ticket, message=message)


def notify_status_changed(sender, ticket, old, new, quiet=False, **kwargs):
    """The customer is mailed unless they caused the change themselves."""
    if not quiet:
        notifications.queue("status_changed", ticket, old=old, new=new)


def notify_ticket_merged(sender, source, target, **kwargs):
    """One mail per customer of the two tickets."""
    notifications.queue("ticket_merged", target, source=source)


def warn_target_due(sender, ticket, target, due, **kwargs):
    """The assignee (else the staff address) hears of a target due soon."""
    notifications.queue("target_warning", ticket, target=target, due=due)


def remind_unconfirmed(sender, user, **kwargs):
    account_notifications.queue("activation", user)


def mail_data_request(sender, request, event, **kwargs):
    """A data-protection mail (export ready, erasure confirm, scheduled,
    cancelled) to the request's customer."""
    account_notifications.queue_data_request(event, request)


def process_released_mail(sender, pk, **kwargs):
    inbound_mail.process(pk)


def record_mailbox_message(sender, message, **kwargs):
    """Mail that reached django-mailbox by its own paths (``getmail``, the
    ``processincomingmessage`` pipe, the admin action) is recorded too."""
    inbound_mail.record_mailbox_message(message)


def register_signal_handlers() -> None:
    """Connect every receiver (``dispatch_uid`` keeps each one connection).

    As in Wagtail (``wagtail/signal_handlers.py``), receivers are wired here
    and nowhere else, so the modules that send a signal never import the ones
    that react to it: ``services`` send, ``mail`` reacts. Receivers run
    synchronously in the sender's transaction, so the notifications' outbox
    rows commit or roll back with the change that caused them.
    """
    for signal, receiver, sender in [
        (signals.ticket_opened, notify_ticket_opened, Ticket),
        (signals.message_added, notify_message_added, Ticket),
        (signals.status_changed, notify_status_changed, Ticket),
        (signals.ticket_merged, notify_ticket_merged, Ticket),
        (signals.activation_reminder_due, remind_unconfirmed, InboundMail),
        (signals.inbound_released, process_released_mail, InboundMail),
        (signals.data_request_mail_due, mail_data_request, DataRequest),
        (post_delete, search_index.unindex_deleted_ticket, Ticket),
        (signals.target_warning_due, warn_target_due, Ticket),
        (post_save, service_targets.forget, ServiceTarget),
        (post_delete, service_targets.forget, ServiceTarget),
    ]:
        signal.connect(
            receiver, sender=sender, dispatch_uid=f"vivadesk_{receiver.__name__}"
        )
    message_received.connect(
        record_mailbox_message, dispatch_uid="vivadesk_record_mailbox_message"
    )
