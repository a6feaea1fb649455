"""Who may do what in the admin.

Tickets and outbox rows change only through ``services``: the generic
create / edit / delete views of their snippets are closed to everybody,
superusers included; the help-desk screens use the ``view`` permission that
the "Help desk agents" group (created by a migration) holds.
"""

from wagtail.permission_policies import ModelPermissionPolicy

#: The group whose members work the help desk.
AGENTS_GROUP = "Help desk agents"


class ServiceWrittenPolicy(ModelPermissionPolicy):
    """Model permissions, minus every action that would write rows directly."""

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
