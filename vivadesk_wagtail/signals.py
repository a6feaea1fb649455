"""Signals the help desk sends; receivers elsewhere react to ticket changes.

``services.tickets`` sends them after the change has been written, inside the
same transaction; receivers that do outside work must defer it with
``transaction.on_commit``.
"""

from django.dispatch import Signal

#: A ticket was opened. Arguments: ``ticket``, ``message``.
ticket_opened = Signal()
#: A message was added to a ticket. Arguments: ``ticket``, ``message``.
message_added = Signal()
#: A ticket's status changed. Arguments: ``ticket``, ``old``, ``new``, ``by``.
status_changed = Signal()
