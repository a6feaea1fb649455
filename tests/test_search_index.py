"""Batched search indexing of tickets (``services.search_index``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.search.backends import get_search_backend

from tests import factories
from vivadesk_wagtail import schedules
from vivadesk_wagtail.models import SearchIndexMark, Ticket
from vivadesk_wagtail.services import search_index, tickets

pytestmark = pytest.mark.django_db


def found(text: str) -> set[str]:
    return {t.reference for t in get_search_backend().search(text, Ticket)}


def test_a_change_is_searchable_after_the_next_run_not_before():
    ticket = factories.ticket(subject="Drucker", body="Der Toner ist leer")
    assert found("Toner") == set()  # saving does not index
    assert search_index.update_changed() >= 1
    assert found("Toner") == {ticket.reference}

    tickets.add_message(ticket, tickets.NewMessage(body="Papierstau im Fach zwei"))
    assert found("Papierstau") == set()
    search_index.update_changed()
    assert found("Papierstau") == {ticket.reference}


def test_a_run_indexes_only_tickets_changed_since_the_last_one():
    old = factories.ticket(subject="Alt")
    search_index.update_changed()
    later = timezone.now() + search_index.OVERLAP + timedelta(minutes=1)
    Ticket.objects.filter(pk=old.pk).update(updated_at=timezone.now())
    new = factories.ticket(subject="Neu")
    Ticket.objects.filter(pk=new.pk).update(updated_at=later)
    SearchIndexMark.objects.filter(name=search_index.MARK).update(
        indexed_until=later - timedelta(seconds=1)
    )
    assert search_index.update_changed(now=later) == 1
    assert SearchIndexMark.objects.get(name=search_index.MARK).indexed_until == later


def test_after_downtime_every_change_since_the_mark_is_indexed():
    search_index.update_changed()
    mark = SearchIndexMark.objects.get(name=search_index.MARK)
    SearchIndexMark.objects.filter(pk=mark.pk).update(
        indexed_until=timezone.now() - timedelta(days=3)
    )
    made = [factories.ticket(subject=f"Während der Pause {n}") for n in range(3)]
    assert search_index.update_changed() >= 3
    assert found("Pause") == {t.reference for t in made}


def test_a_deleted_ticket_leaves_the_index_at_once():
    ticket = factories.ticket(subject="Vertraulich")
    search_index.update_changed()
    assert found("Vertraulich") == {ticket.reference}
    ticket.delete()
    from wagtail.search.models import IndexEntry

    assert not IndexEntry.objects.filter(object_id=str(ticket.pk)).exists()


def test_the_schedule_runs_it():
    funcs = {periodic.func for periodic in schedules.SCHEDULES}
    assert "vivadesk_wagtail.tasks.update_search_index" in funcs
