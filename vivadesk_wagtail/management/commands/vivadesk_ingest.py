"""``manage.py vivadesk_ingest [--json] FILE_OR_MAILDIR...``: raw RFC 822 files
(or every mail of a maildir, left untouched) through exactly the pipeline the
mailbox poller uses, one line (or JSON object) per mail.
"""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...mail.inbound import Result, ingest


def _maildir_files(path: Path):
    box = mailbox.Maildir(str(path), factory=None, create=False)
    for key in sorted(box.iterkeys()):
        yield f"{path}/{key}", box.get_bytes(key)


def _sources(paths: list[str]):
    for name in paths:
        path = Path(name)
        if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
            yield from _maildir_files(path)
        elif path.is_dir():
            for child in sorted(p for p in path.iterdir() if p.is_file()):
                yield str(child), child.read_bytes()
        elif path.is_file():
            yield str(path), path.read_bytes()
        else:
            raise CommandError(f"No such file or maildir: {name}")


class Command(BaseCommand):
    """Reports one line per mail; with ``--json`` one JSON object per line
    with the fields ``file``, ``outcome``, ``ticket``, ``from``,
    ``subject``, ``body``, ``attachments`` and ``reason``."""

    help = (
        "Run raw mail files or a maildir through the inbound mail pipeline "
        "(the same one the mailbox poller uses)."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="FILE_OR_MAILDIR")
        parser.add_argument(
            "--json", action="store_true", help="one JSON object per mail"
        )

    def handle(self, *args, **options):
        for file, raw in _sources(options["paths"]):
            result = ingest(raw, source=f"file:{file}")
            self._report(file, result, as_json=options["json"])

    def _report(self, file: str, result: Result, *, as_json: bool) -> None:
        if as_json:
            line = json.dumps(result.as_json(file), ensure_ascii=False)
            self.stdout.write(line)
            return
        ticket = result.ticket or "-"
        reason = f" ({result.reason})" if result.reason else ""
        self.stdout.write(f"{file}: {result.outcome} {ticket}{reason}")
