"""The admin benchmark runs (small) and leaves nothing behind."""

import io

import pytest

from vivadesk_bench import staff as benchmark
from vivadesk_wagtail.models import Ticket


@pytest.mark.django_db
def test_benchmark_prints_figures_at_two_sizes_and_rolls_back():
    out = io.StringIO()
    benchmark.run(out, sizes=(60, 120), runs=2)
    text = out.getvalue()
    assert "median     min     max" in text
    assert "queries  peak KiB" in text
    assert text.count("Ticket listing (default, page of 50) ") == 2
    assert text.count("Ticket screen, 50 messages ") == 2
    assert "-- 60 tickets in database" in text
    assert "-- 120 tickets in database" in text
    assert not Ticket.objects.exists()
