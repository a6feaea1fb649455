"""django-mailbox is only the help desk's transport: its own pipeline must
never write an inbound byte to the public media storage (DESIGN.md 6); a
system check (:func:`check_django_mailbox`) holds the settings to that.
"""

from __future__ import annotations

from django.core.checks import Error
from django.core.management import get_commands
from django_mailbox.utils import get_settings

#: What django-mailbox must be set to, as ``(setting, key in its
#: get_settings(), value)``: no original kept, every MIME part stripped
#: (a stored part is a file in ``MEDIA_ROOT``, served inline).
REQUIRED = [
    ("DJANGO_MAILBOX_STORE_ORIGINAL_MESSAGE", "store_original_message", False),
    ("DJANGO_MAILBOX_STRIP_UNALLOWED_MIMETYPES", "strip_unallowed_mimetypes", True),
    ("DJANGO_MAILBOX_ALLOWED_MIMETYPES", "allowed_mimetypes", []),
]
#: django-mailbox's commands that the help desk answers itself.
COMMANDS = ("getmail", "processincomingmessage")


def check_django_mailbox(app_configs=None, **kwargs) -> list[Error]:
    """Refuse settings under which django-mailbox's processing
    (``Mailbox.get_new_mail()``, ``process_incoming_message()``) would store
    attachments or the original mail in the default storage, and an app order
    under which its ``getmail`` and ``processincomingmessage`` commands would
    run instead of the help desk's (``management/commands``)."""
    current = get_settings()
    errors = [
        Error(
            f"{setting} must be {wanted!r}: otherwise django-mailbox's own "
            "processing writes inbound mail into the public media storage.",
            hint="Set it in the settings; the help desk stores mail itself.",
            id="vivadesk.E110",
        )
        for setting, key, wanted in REQUIRED
        if _differs(current[key], wanted)
    ]
    commands = get_commands()
    for name in COMMANDS:
        if commands.get(name) != "vivadesk_wagtail":
            errors.append(
                Error(
                    f"manage.py {name} is django-mailbox's, not the help desk's.",
                    hint='List "vivadesk_wagtail" before "django_mailbox" in '
                    "INSTALLED_APPS.",
                    id="vivadesk.E111",
                )
            )
    return errors


def _differs(value, wanted) -> bool:
    if isinstance(wanted, list):
        return list(value or []) != wanted
    return bool(value) is not wanted
