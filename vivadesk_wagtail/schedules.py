"""The periodic tasks of the help desk, created by ``manage.py
vivadesk_schedules`` (never at import or in ``AppConfig.ready``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    minutes: int


#: The help desk's schedules are named with this prefix.
PREFIX = "vivadesk: "

#: Every schedule the help desk needs; the command creates or updates them.
SCHEDULES = (
    Periodic("vivadesk: send due mail", "vivadesk_wagtail.tasks.sweep_outbox", 1),
    Periodic(
        "vivadesk: close done tickets", "vivadesk_wagtail.tasks.close_done_tickets", 60
    ),
    Periodic(
        "vivadesk: service targets",
        "vivadesk_wagtail.tasks.check_service_targets",
        5,
    ),
    Periodic(
        "vivadesk: poll mailboxes", "vivadesk_wagtail.inbound_tasks.poll_mailboxes", 1
    ),
    Periodic(
        "vivadesk: sweep inbound mail",
        "vivadesk_wagtail.inbound_tasks.sweep_inbound",
        5,
    ),
    Periodic(
        "vivadesk: update the search index",
        "vivadesk_wagtail.tasks.update_search_index",
        1,
    ),
    Periodic(
        "vivadesk: retention",
        "vivadesk_wagtail.privacy_tasks.run_retention",
        1440,
    ),
    Periodic(
        "vivadesk: data-protection requests",
        "vivadesk_wagtail.privacy_tasks.sweep_data_requests",
        5,
    ),
    Periodic(
        "vivadesk: remove files no row refers to",
        "vivadesk_wagtail.tasks.purge_orphan_files",
        1440,
    ),
)


def install() -> list[tuple[str, bool]]:
    """Create or update every schedule, and remove the help desk's schedules
    that are no longer in :data:`SCHEDULES` (their work moved elsewhere,
    e.g. the purges into ``vivadesk: retention``); returns ``(name,
    created)`` pairs."""
    from django_q.models import Schedule

    names = [periodic.name for periodic in SCHEDULES]
    Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=names).delete()
    result = []
    for periodic in SCHEDULES:
        _obj, created = Schedule.objects.update_or_create(
            name=periodic.name,
            defaults={
                "func": periodic.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": periodic.minutes,
                "repeats": -1,
            },
        )
        result.append((periodic.name, created))
    return result
