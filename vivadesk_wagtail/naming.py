"""How people are named on staff screens and in what staff write: one rule
for the admin (``staff``) and the services that fill texts in."""

from __future__ import annotations


def display_name(user) -> str:
    """A staff user's full name, else the username ("" for nobody)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
