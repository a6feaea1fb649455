"""``vivadesk_bench`` prints, per part and data size, median / min / max, the
query count and the peak memory, and leaves nothing behind (tiny sizes)."""

import io
import os
import re
import tempfile

import pytest
from django.core.management import call_command

from vivadesk_bench import ingest
from vivadesk_wagtail.models import InboundMail, Ticket
from vivadesk_wagtail.storage import stored_files

pytestmark = pytest.mark.django_db

#: One figure line: label, median, min, max, unit, queries, peak KiB, target.
ROW = re.compile(
    r"^(?P<label>\S.*?)\s+(?P<median>\d+\.\d\d)\s+(?P<low>\d+\.\d\d)\s+"
    r"(?P<high>\d+\.\d\d) (?P<unit>ms|msg/s)\s+(?P<queries>\d+(?:\.\d\d)?)\s+"
    r"(?P<kib>\d+)(?:\s+(?P<target>\S.*))?$",
    re.MULTILINE,
)


def rows(text: str) -> dict[str, list[re.Match]]:
    found = {}
    for match in ROW.finditer(text):
        found.setdefault(match["label"], []).append(match)
        assert float(match["low"]) <= float(match["median"]) <= float(match["high"])
        assert int(match["kib"]) > 0
    return found


def bench(*args) -> str:
    out = io.StringIO()
    call_command("vivadesk_bench", "--quick", "--runs", "2", *args, stdout=out)
    return out.getvalue()


def test_portal_and_staff_print_figures_at_two_sizes():
    text = bench("--only", "portal", "--only", "staff", "--tickets", "60", "120")
    assert text.startswith("machine: ")
    assert re.search(r"Python \d+\.\d+.*SQLite \d+\.\d+.*database \w+", text)
    assert re.search(r"^reference loop: \d+\.\d ms \(a fixed pure-Python", text, re.M)
    assert re.search(
        r"^\(took \d+ s; reference loop at the end: \d+\.\d ms\)$", text, re.M
    )
    assert text.count("median") == 2  # one column head per part
    assert "queries  peak KiB  target" in text
    found = rows(text)
    assert len(found["My requests,    10 tickets"]) == 2  # both sizes
    assert len(found["My requests,   100 tickets"]) == 1  # fits 120 only
    assert "My requests,   100 tickets: n/a" in text
    page = found["Ticket page, 50 messages / 10 attachments"]
    assert len(page) == 2
    assert all(re.fullmatch(r"≤ 15 ms  (ok|MISSED)", m["target"]) for m in page)
    assert found["My requests,    10 tickets"][0]["target"].startswith(
        "≤ 15 ms, ≤ 10 queries"
    )
    listing = found["Ticket listing (default, page of 50)"]
    assert len(listing) == 2
    assert all(m["unit"] == "ms" and int(m["queries"]) > 0 for m in listing)
    assert listing[0]["target"].startswith("≤ 60 ms")
    assert len(found["Ticket screen, 50 messages"]) == 2
    assert "-- 60 tickets in database" in text
    assert "-- 120 tickets in database" in text
    assert not Ticket.objects.exists()


def test_contact_form_prints_figures_as_is_and_seeded(settings):
    call_command("vivadesk_demo", stdout=io.StringIO())
    before = Ticket.objects.count()
    text = bench("--only", "contact", "--tickets", "30")
    assert "(as is)" in text
    assert "(30 seeded)" in text
    posts = rows(text)["Contact form POST"]
    assert len(posts) == 2
    assert all(m["target"].startswith("≤ 50 ms") for m in posts)
    assert all(int(m["queries"]) > 0 for m in posts)
    assert Ticket.objects.count() == before


def test_ingest_prints_rates_of_several_passes_queries_and_memory(monkeypatch):
    folders, real_mkdtemp = [], tempfile.mkdtemp

    def mkdtemp(**kwargs):
        folders.append(real_mkdtemp(**kwargs))
        return folders[-1]

    monkeypatch.setattr(ingest.tempfile, "mkdtemp", mkdtemp)
    files_before = set(stored_files())
    out = io.StringIO()
    ingest.run(out, sizes=(20, 40), messages=10, passes=2)
    text = out.getvalue()
    found = rows(text)
    for place in ("files in memory", "files on disk"):
        mixed = found[f"mixed, {place}, 2 × 10 mails"]
        assert len(mixed) == 2  # both sizes
        assert all(m["unit"] == "msg/s" for m in mixed)
        assert mixed[0]["target"].startswith("≥ 300 msg/s, ≤ 8 queries/message")
    for kind in ("reply", "new", "attachment"):
        lines = re.findall(
            rf"^  {kind} +× +\d+ mails .* (\d+\.\d\d) +(\d+)$", text, re.M
        )
        assert len(lines) == 4, kind
    assert text.count("queries/message with the benchmark's savepoints") == 4
    written = re.findall(
        r"reference loop around the passes \d+\.\d ms; writing the files: "
        r"(\d+\.\d\d) ms per mail$",
        text,
        re.M,
    )
    assert len(written) == 4
    assert all(float(ms) > 0 for ms in written)
    for place in ("files in memory", "files on disk"):
        compared = re.search(
            rf"at 40 tickets, {place}: ([+-]\d+\.\d) % slower than at 20 .*; "
            r"([+-]\d+\.\d) % at the machine's speed of the first size",
            text,
        )
        assert compared, text
    assert not Ticket.objects.exists()
    assert not InboundMail.objects.exists()
    # Nothing left behind: neither in the private storage nor in memory.
    assert set(stored_files()) == files_before
    assert len(folders) == 4  # one per pass with the files in memory
    assert not any(os.path.exists(folder) for folder in folders)


def test_without_a_memory_file_system_the_row_says_temporary_folder(monkeypatch):
    from vivadesk_wagtail.storage import private_storage

    monkeypatch.setattr(ingest.os, "access", lambda path, mode: False)
    assert ingest._place("memory") == "files in a temporary folder"
    assert ingest._place("disk") == "files on disk"
    with ingest._files_in("memory"):
        location = private_storage().backend().location
        assert os.path.dirname(location) == tempfile.gettempdir()
    assert not os.path.exists(location)
