"""``manage.py vivadesk_retention [--json]``: run the retention policies now
(what the daily schedule ``vivadesk: retention`` does) and print the report,
as a table or, with ``--json``, as one JSON object.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.utils.dateparse import parse_duration

from ...services import retention


def _period(value: str | None) -> str:
    """``"90 days"``, ``"12 hours"``, ``"off"``: how long a policy keeps."""
    if value is None:
        return "off"
    period = parse_duration(value)
    if period.total_seconds() % 86400 == 0:
        days = period.days
        return f"{days} day{'s' if days != 1 else ''}"
    hours = period.total_seconds() / 3600
    return f"{hours:g} hours"


class Command(BaseCommand):
    """Prints one row per policy: what it does, how long it keeps, how many
    rows it removed; ``--json`` prints the report as the schedule's task
    result stores it."""

    help = (
        "Apply the help desk's retention periods now (closed tickets, held "
        "mail, raw mail, caught spam) and report what went."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="print the report as JSON"
        )

    def handle(self, *args, **options):
        report = retention.run()
        if options["json"]:
            self.stdout.write(json.dumps(report, sort_keys=True))
            return
        rows = [("Policy", "Kept for", "Removed")]
        for policy in retention.POLICIES:
            entry = report[policy.name]
            action = policy.action
            if policy.name == "closed_tickets":
                action = f"{action} ({entry['mode']})"
            rows.append((action, _period(entry["period"]), str(entry["count"])))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            self.stdout.write(
                f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}"
            )
