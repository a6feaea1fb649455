"""Print the help desk's benchmark figures (in-process, throw-away data)."""

from django.core.management.base import BaseCommand

from ...benchmarks import contact, portal, staff


class Command(BaseCommand):
    help = "Run the benchmarks and print median times and query counts."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=10_000)
        parser.add_argument("--runs", type=int, default=30)

    def handle(self, *args, tickets, runs, **options):
        self.stdout.write("== contact form ==\n")
        contact.run(self.stdout, runs=runs)
        self.stdout.write("== portal ==\n")
        portal.run(self.stdout, total=tickets, runs=runs)
        self.stdout.write("== staff admin ==\n")
        staff.run(self.stdout, total=tickets, runs=runs)
