"""Load test of the contact form and the portal: gunicorn + PostgreSQL on
127.0.0.1, locust for a bounded time, then the ticket check (see
``vivadesk_bench/load.py``). Exits non-zero on any error, lost
or duplicated ticket."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ... import load


class Command(BaseCommand):
    help = (
        "Load-test the contact form and the portal (gunicorn, PostgreSQL, "
        "locust) and check that every accepted form is exactly one ticket."
    )

    def add_arguments(self, parser):
        defaults = load.Options()
        parser.add_argument(
            "--duration", type=int, default=defaults.duration, help="Seconds."
        )
        parser.add_argument("--users", type=int, default=defaults.users)
        parser.add_argument("--spawn-rate", type=float, default=defaults.spawn_rate)
        parser.add_argument("--workers", type=int, default=defaults.workers)
        parser.add_argument("--threads", type=int, default=defaults.threads)
        parser.add_argument(
            "--customers",
            type=int,
            default=defaults.customers,
            help="Seeded portal customers (three tickets each).",
        )
        parser.add_argument(
            "--double-submit-share",
            type=float,
            default=defaults.double_submit_share,
            help="Share of forms sent twice with the same idempotency key.",
        )
        parser.add_argument(
            "--database-url",
            default=None,
            help="Use this existing PostgreSQL database (kept) instead of a "
            "throw-away one.",
        )
        parser.add_argument(
            "--postgres-url",
            default=load.DEFAULT_POSTGRES_URL,
            help="Server (maintenance database) for the throw-away database.",
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="Keep the throw-away database and the temp folder.",
        )
        # Internal: the steps that run inside the load database's settings.
        parser.add_argument("--phase", choices=["seed", "verify"], help="(internal)")
        parser.add_argument("--plan", type=Path, help="(internal)")
        parser.add_argument("--results", type=Path, help="(internal)")
        parser.add_argument("--out", type=Path, help="(internal)")
        parser.add_argument("--run-id", help="(internal)")

    def handle(self, *args, phase, **options):
        if phase == "seed":
            load.seed(options["plan"], options["run_id"], options["customers"])
            return
        if phase == "verify":
            load.verify(options["plan"], options["results"], options["out"])
            return
        if options["duration"] < 1 or options["users"] < 1:
            raise CommandError("--duration and --users must be at least 1.")
        if not options["database_url"] and not load.postgres_reachable(
            options["postgres_url"]
        ):
            raise CommandError(
                f"PostgreSQL is not reachable at {options['postgres_url']}."
            )
        ok = load.run(
            load.Options(
                duration=options["duration"],
                users=options["users"],
                spawn_rate=options["spawn_rate"],
                workers=options["workers"],
                threads=options["threads"],
                customers=options["customers"],
                double_submit_share=options["double_submit_share"],
                database_url=options["database_url"],
                postgres_url=options["postgres_url"],
                keep=options["keep"],
            ),
            self.stdout,
        )
        if not ok:
            raise CommandError("load test failed: errors, lost or duplicated tickets")
        self.stdout.write(self.style.SUCCESS("load test passed"))
