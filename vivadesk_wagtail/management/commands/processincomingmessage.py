"""``manage.py processincomingmessage [MAILBOX] < mail.eml`` — django-mailbox's
pipe command (a mail server hands one mail on standard input), answered by
the help desk: the bytes are recorded and queued like a polled mail.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django_mailbox.models import Mailbox

from ...mail import inbound


class Command(BaseCommand):
    """django-mailbox's own command parses the mail with its pipeline, which
    stores attachments in the public media storage. This one records the
    bytes exactly as received, in the private storage, and queues them for
    the help desk's processing, like a polled mail. A non-zero exit status
    (the mail could not be stored) tells the mail server to try again."""

    help = (
        "Record one mail read from standard input and queue it for the help "
        "desk's inbound pipeline."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "mailbox_name",
            nargs="?",
            help="the mailbox the mail arrived in (only recorded as its source)",
        )

    def handle(self, *args, **options):
        stdin = options.get("stdin") or sys.stdin.buffer
        raw = stdin.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw.strip():
            raise CommandError("No mail on standard input.")
        name = options["mailbox_name"] or ""
        box = Mailbox.objects.filter(name=name).first() if name else None
        row, created = inbound.record(raw, source=f"pipe:{name}", mailbox=box)
        state = "recorded" if created else "already recorded"
        self.stdout.write(f"Mail {row.pk} {state}.")
