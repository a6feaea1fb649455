"""Wagtail hooks: registration only; the pieces live in ``staff/``."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet

from .models import OutboundEmail, Ticket
from .permissions import ServiceWrittenPolicy
from .staff.log_actions import register_log_actions
from .staff.viewsets import HelpDeskViewSetGroup

register_permission_policy(Ticket, ServiceWrittenPolicy(Ticket))
register_permission_policy(OutboundEmail, ServiceWrittenPolicy(OutboundEmail))
register_snippet(HelpDeskViewSetGroup)
hooks.register("register_log_actions", register_log_actions)
