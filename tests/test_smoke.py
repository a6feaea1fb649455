import pytest
from django.core import mail

from tests import factories
from vivadesk_wagtail.models import OutboundEmail, TicketStatus
from vivadesk_wagtail.services import tickets


@pytest.mark.django_db(transaction=True)
def test_ticket_opens_and_acknowledgement_is_sent(settings):
    ticket = factories.ticket()
    assert ticket.reference == "VIVA-1000"
    assert ticket.status == TicketStatus.NEW
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_created")
    assert row.state == "sent", row.last_error
    sent = [m for m in mail.outbox if m.to == ["kunde@example.com"]]
    assert sent and sent[0].subject.startswith("[VIVA-1000]")
    tickets.change_status(ticket, TicketStatus.DONE)
    assert any("Fertig" in m.subject for m in mail.outbox), [
        m.subject for m in mail.outbox
    ]
