"""Print the help desk's benchmark figures (in-process, throw-away data): per
part and data size median / min / max, queries and peak memory, with the
target beside each figure (see docs/benchmarks.md).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from ... import contact, ingest, portal, reports, staff
from ...measure import machine, reference_ms

PARTS = ("contact", "portal", "staff", "ingest", "reports")


class Command(BaseCommand):
    help = (
        "Run the benchmarks and print median / min / max times, query counts "
        "and peak memory at two data sizes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets",
            type=int,
            nargs="+",
            default=None,
            help="Data sizes (tickets in the database) instead of the defaults "
            "(1000 10000; inbound mail 500 10000; --quick 100 1000).",
        )
        parser.add_argument(
            "--runs", type=int, default=None, help="Timed runs per page."
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help="Smaller data sets and fewer runs (a quick check, not figures).",
        )
        parser.add_argument(
            "--only", choices=PARTS, action="append", help="Run only these parts."
        )
        parser.add_argument(
            "--profile",
            action="store_true",
            help="Inbound mail: list the SQL statements per message.",
        )

    def handle(self, *args, **options):
        # With DEBUG on, Django logs and formats every SQL statement, which is
        # not the help desk's cost (query counts are taken with an execute
        # wrapper either way): the figures are taken as the site runs in
        # production.
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts):
            self._run(**options)

    def _run(self, *, tickets, runs, quick, only, profile, **options):
        out = self.stdout
        out.write(machine())
        out.write("(DEBUG off, as in production)\n")
        sizes = tickets or ((100, 1_000) if quick else (1_000, 10_000))
        mail_sizes = tickets or ((100, 1_000) if quick else (500, 10_000))
        passes, messages = (2, 200) if quick else (5, 600)
        runs = runs or (5 if quick else 30)
        parts = only or PARTS
        began = time.perf_counter()
        if "contact" in parts:
            out.write(f"\n== contact form ({runs} timed POSTs) ==\n")
            contact.run(out, seeded=(0, max(sizes)), runs=runs)
        if "portal" in parts:
            out.write(f"\n== portal ({runs} timed GETs each) ==\n")
            portal.run(out, sizes=sizes, runs=runs)
        if "staff" in parts:
            out.write(f"\n== staff admin ({runs} timed GETs each) ==\n")
            staff.run(out, sizes=sizes, runs=runs)
        if "ingest" in parts:
            out.write(f"\n== inbound mail ({passes} timed passes) ==\n")
            ingest.run(
                out,
                sizes=mail_sizes,
                messages=messages,
                passes=passes,
                profile=profile,
            )
        if "reports" in parts:
            out.write(f"\n== reports ({runs} timed GETs each) ==\n")
            reports.run(
                out, sizes=tickets or ((2_000,) if quick else (100_000,)), runs=runs
            )
        out.write(
            f"\n(took {time.perf_counter() - began:.0f} s; "
            f"reference loop at the end: {reference_ms():.1f} ms)\n"
        )
