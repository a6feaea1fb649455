"""The fast paths of the staff listing and the portal thread print what the
generic ones did: page slicing, one agents query, date-time text."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models.functions import Coalesce
from django.template import Context, Template
from django.utils import timezone, translation

from tests import factories
from tests.staff_support import url
from vivadesk_wagtail import dates
from vivadesk_wagtail.models import Ticket
from vivadesk_wagtail.services import tickets


def refs(response) -> list[str]:
    assert response.status_code == 200
    return list(dict.fromkeys(re.findall(r"VIVA-\d+", response.content.decode())))


def in_order(tickets_qs) -> list[str]:
    """References in the listing's default order: oldest waiting first."""
    waiting = Coalesce("customer_activity_at", "created_at")
    return [
        t.reference
        for t in tickets_qs.annotate(waiting=waiting).order_by("waiting", "pk")
    ]


@pytest.mark.django_db
def test_pages_of_the_listing_follow_the_ordering(agent_client, agent):
    made = [factories.ticket(subject=f"Seite {i}") for i in range(60)]
    for ticket in made[::3]:
        tickets.assign(ticket, agent, by=agent)
    start = timezone.now() - timedelta(days=100)
    for i, ticket in enumerate(made):
        Ticket.objects.filter(pk=ticket.pk).update(
            customer_activity_at=start + timedelta(hours=(i * 7) % 60)
        )
    first = refs(agent_client.get(url("list")))
    second = refs(agent_client.get(url("list") + "?p=2"))
    assert (len(first), len(second)) == (50, 10)
    assert first + second == in_order(Ticket.objects.all())
    mine = refs(agent_client.get(url("list") + "?assignee=me"))
    assert mine == in_order(Ticket.objects.filter(assignee=agent))


@pytest.mark.django_db
def test_assignee_filter_costs_no_extra_queries(
    agent_client, agent, other_agent, django_assert_max_num_queries
):
    for i in range(3):
        tickets.assign(factories.ticket(subject=f"T{i}"), agent, by=agent)
    agent_client.get(url("list"))
    with django_assert_max_num_queries(40) as default:
        agent_client.get(url("list"))
    with django_assert_max_num_queries(len(default.captured_queries)):
        response = agent_client.get(url("list") + "?assignee=me")
    assert len(refs(response)) == 3


@pytest.mark.parametrize("language", ["de", "en"])
def test_local_datetime_prints_what_the_date_filter_prints(language):
    template = Template('{{ v|date:"c" }}|{{ v|date:"SHORT_DATETIME_FORMAT" }}')
    rng = random.Random(7)
    with translation.override(language):
        for _ in range(500):
            value = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(
                seconds=rng.randrange(10**9), microseconds=rng.randrange(10**6)
            )
            expected = template.render(Context({"v": value}))
            assert "|".join(dates.local_datetime(value)) == expected
