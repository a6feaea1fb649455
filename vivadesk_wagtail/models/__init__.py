"""Models of the help desk, one module per role."""

from .attachments import TicketAttachment
from .company import CompanyDetails
from .customers import CustomerProfile
from .inbound import InboundMail, InboundOutcome, InboundState, MailboxPoll
from .messages import PUBLIC_KINDS, MessageKind, TicketMessage
from .outbox import OutboundEmail, OutboundState
from .pages import ContactFormField, ContactPage, ticket_answers
from .presence import TicketViewer
from .privacy import (
    DataRequest,
    DataRequestKind,
    DataRequestState,
    ErasureReason,
    PrivacyNoticeVersion,
    RequestedBy,
)
from .satisfaction import Rating, SatisfactionRating
from .service_targets import ServiceTarget
from .spam import CaughtReason, CaughtSubmission
from .text_modules import TextModule
from .tickets import (
    OPEN_STATUSES,
    Category,
    Channel,
    SearchIndexMark,
    Ticket,
    TicketCounter,
    TicketStatus,
)

__all__ = [
    "OPEN_STATUSES",
    "PUBLIC_KINDS",
    "Category",
    "CaughtReason",
    "CaughtSubmission",
    "Channel",
    "CompanyDetails",
    "ContactFormField",
    "ContactPage",
    "ticket_answers",
    "CustomerProfile",
    "DataRequest",
    "DataRequestKind",
    "DataRequestState",
    "ErasureReason",
    "PrivacyNoticeVersion",
    "RequestedBy",
    "Rating",
    "SatisfactionRating",
    "ServiceTarget",
    "TextModule",
    "TicketViewer",
    "InboundMail",
    "InboundOutcome",
    "InboundState",
    "MailboxPoll",
    "MessageKind",
    "OutboundEmail",
    "OutboundState",
    "SearchIndexMark",
    "Ticket",
    "TicketAttachment",
    "TicketCounter",
    "TicketMessage",
    "TicketStatus",
]
