"""``manage.py getmail [MAILBOX...]`` — django-mailbox's command, answered by
the help desk's poller (``mail.polling``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_mailbox.models import Mailbox

from ...mail import polling


class Command(BaseCommand):
    """django-mailbox's own ``getmail`` runs ``Mailbox.get_new_mail()``, which
    stores attachments in the public media storage. The help desk's app comes
    first in ``INSTALLED_APPS`` (a system check insists), so this command
    takes its name: it polls the active mailboxes (or the named ones) through
    ``mail.polling``, the pipeline the schedule uses, which keeps every byte
    in the private storage."""

    help = (
        "Fetch new mail of the active mailboxes (or of the named ones) "
        "through the help desk's poller."
    )

    def add_arguments(self, parser):
        parser.add_argument("mailboxes", nargs="*", metavar="MAILBOX")

    def handle(self, *args, **options):
        names = options["mailboxes"]
        if not names:
            results = polling.poll_all()
        else:
            results = {name: self._poll(name) for name in names}
        for name, result in results.items():
            self.stdout.write(f"{name}: {result}")
        if any(result.startswith("failed") for result in results.values()):
            raise CommandError("Some mailboxes could not be polled.")

    def _poll(self, name: str) -> str:
        box = Mailbox.objects.filter(name=name).first()
        if box is None:
            raise CommandError(f"No mailbox named {name!r}.")
        try:
            return f"{polling.poll_mailbox(box)} new"
        except Exception as exc:  # noqa: BLE001 - reported, the others go on
            return f"failed: {type(exc).__name__}: {exc}"
