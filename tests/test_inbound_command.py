"""``manage.py vivadesk_ingest [--json] FILE_OR_MAILDIR...`` (DESIGN.md
"Stable interfaces")."""

from __future__ import annotations

import json
import mailbox
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests import emails, factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_content_types"),
]

FIELDS = {
    "file",
    "outcome",
    "ticket",
    "from",
    "subject",
    "body",
    "attachments",
    "reason",
}


def run(*paths) -> list[dict]:
    out = StringIO()
    call_command("vivadesk_ingest", "--json", *map(str, paths), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_fields_for_each_outcome(tmp_path):
    factories.customer()
    new = tmp_path / "new.eml"
    new.write_bytes(
        emails.build(
            subject="Fwd: Drucker",
            body="Er druckt nicht.",
            attachments=[("log.txt", b"a\nb\n", "text/plain")],
        )
    )
    stranger = tmp_path / "stranger.eml"
    stranger.write_bytes(emails.build(sender="fremd@example.org"))
    auto = tmp_path / "auto.eml"
    auto.write_bytes(emails.build(headers={"Auto-Submitted": "auto-replied"}))
    rows = run(new, stranger, auto, new)
    assert [set(row) for row in rows] == [FIELDS] * 4
    first, held, ignored, duplicate = rows
    assert first["outcome"] == "new_ticket"
    assert first["ticket"] == "VIVA-1000"
    assert first["from"] == "kunde@example.com"
    assert first["subject"] == "Fwd: Drucker"
    assert first["body"] == "Er druckt nicht."
    assert first["attachments"] == ["log.txt"]
    assert first["file"] == str(new)
    assert (held["outcome"], held["reason"], held["ticket"]) == (
        "held",
        "unknown_sender",
        None,
    )
    assert ignored["outcome"] == "ignored_auto" and ignored["reason"]
    assert duplicate["outcome"] == "duplicate"
    assert duplicate["ticket"] == "VIVA-1000"


def test_maildir_is_read_and_left_untouched(tmp_path):
    factories.customer()
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    for n in range(3):
        box.add(emails.build(subject=f"Mail {n}"))
    rows = run(tmp_path / "Maildir")
    assert [row["outcome"] for row in rows] == ["new_ticket"] * 3
    assert len(box) == 3


def test_text_output_and_missing_path(tmp_path):
    factories.customer()
    path = tmp_path / "a.eml"
    path.write_bytes(emails.build())
    out = StringIO()
    call_command("vivadesk_ingest", str(path), stdout=out)
    assert out.getvalue().strip() == f"{path}: new_ticket VIVA-1000"
    with pytest.raises(CommandError):
        call_command("vivadesk_ingest", str(tmp_path / "missing.eml"))
