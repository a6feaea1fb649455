"""Print the help desk's benchmark figures (in-process, throw-away data).

The figures are taken with ``DEBUG`` off, as the site runs in production: with
it on, Django logs and formats every SQL statement, which is not the help
desk's cost (query counts are taken with an execute wrapper either way).
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from ...benchmarks import contact, ingest, portal, staff

PARTS = ("contact", "portal", "staff", "ingest")


class Command(BaseCommand):
    help = "Run the benchmarks and print median times and query counts."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=None)
        parser.add_argument("--runs", type=int, default=None)
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
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts):
            self._run(**options)

    def _run(self, *, tickets, runs, quick, only, profile, **options):
        self.stdout.write("(DEBUG off, as in production)\n")
        tickets = tickets or (1_000 if quick else 10_000)
        runs = runs or (5 if quick else 30)
        parts = only or PARTS
        if "contact" in parts:
            self.stdout.write("== contact form ==\n")
            contact.run(self.stdout, runs=runs)
        if "portal" in parts:
            self.stdout.write("== portal ==\n")
            portal.run(self.stdout, total=tickets, runs=runs)
        if "staff" in parts:
            self.stdout.write("== staff admin ==\n")
            staff.run(self.stdout, total=tickets, runs=runs)
        if "ingest" in parts:
            self.stdout.write("== inbound mail ==\n")
            if quick:
                ingest.run(
                    self.stdout, sizes=(100, 1_000), messages=200, profile=profile
                )
            else:
                ingest.run(self.stdout, sizes=(500, tickets), profile=profile)
