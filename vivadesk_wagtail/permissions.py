"""Who may do what in the admin: agents (:func:`is_agent`), and no direct
writes of help-desk rows (:class:`ServiceWrittenPolicy`).
"""

import functools

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import URLPattern, URLResolver
from wagtail.permission_policies import ModelPermissionPolicy

#: The group whose members work the help desk.
AGENTS_GROUP = "Help desk agents"

#: Models whose rows are help-desk data (customers, their mail and tickets):
#: agents only, through every admin route. Categories are left out: they are
#: configuration, not customer data, and wagtail-localize's translation
#: editor shows a contact page's category through its snippet API.
HELPDESK_MODELS = frozenset(
    {
        "vivadesk_wagtail.ticket",
        "vivadesk_wagtail.ticketmessage",
        "vivadesk_wagtail.ticketattachment",
        "vivadesk_wagtail.inboundmail",
        "vivadesk_wagtail.outboundemail",
        "vivadesk_wagtail.customerprofile",
        "vivadesk_wagtail.mailboxpoll",
        "vivadesk_wagtail.caughtsubmission",
        # Who asked for an export or an erasure: the register shows it to
        # the data-protection officer without the person (``staff.privacy``).
        "vivadesk_wagtail.datarequest",
        # A customer's rating and comment of a ticket.
        "vivadesk_wagtail.satisfactionrating",
        # Which agent has which ticket open (names a ticket).
        "vivadesk_wagtail.ticketviewer",
        "django_mailbox.message",
        "django_mailbox.messageattachment",
    }
)


class ServiceWrittenPolicy(ModelPermissionPolicy):
    """Model permissions, minus every action that would write rows directly.

    Tickets and outbox rows change only through ``services``: the generic
    create / edit / delete views of their snippets are closed to everybody,
    superusers included; the help-desk screens use the ``view`` permission
    that the "Help desk agents" group (created by a migration) holds.
    """

    READ_ACTIONS = frozenset({"view"})

    def user_has_permission(self, user, action):
        return action in self.READ_ACTIONS and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission(
            [a for a in actions if a in self.READ_ACTIONS]
        )


def is_agent(user) -> bool:
    """Superusers and members of the agents group (active, staff-side users)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.has_perm("vivadesk_wagtail.view_ticket")


def is_helpdesk_model(model) -> bool:
    """Whether ``model``'s rows are help-desk data (:data:`HELPDESK_MODELS`)."""
    return model._meta.label_lower in HELPDESK_MODELS


def agents():
    """Active users who may work tickets (superusers and holders of
    ``view_ticket``, normally through the agents group): the assignees."""
    holders = Q(is_superuser=True)
    for via in ("groups__permissions", "user_permissions"):
        holders |= Q(
            **{
                f"{via}__codename": "view_ticket",
                f"{via}__content_type__app_label": "vivadesk_wagtail",
            }
        )
    return (
        get_user_model()
        .objects.filter(holders, is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def agent_required(view):
    """Decorate an admin view: anybody but an agent gets 403."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_agent(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def agents_only(urlpatterns: list) -> list:
    """Guard every view of a URL list with :func:`agent_required` (the
    help-desk viewsets use it, so a view Wagtail adds later is covered too)."""
    for pattern in urlpatterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = agent_required(pattern.callback)
        elif isinstance(pattern, URLResolver):
            agents_only(pattern.url_patterns)
    return urlpatterns
