"""The admin benchmark runs (small) and leaves nothing behind."""

import io

import pytest

from vivadesk_wagtail.benchmarks import staff as benchmark
from vivadesk_wagtail.models import Ticket


@pytest.mark.django_db
def test_benchmark_prints_times_and_query_counts_and_rolls_back():
    out = io.StringIO()
    benchmark.run(out, total=120, runs=2)
    text = out.getvalue()
    assert "Ticket listing (default, page of 50): median" in text
    assert "Ticket screen, 50 messages: median" in text
    assert "queries" in text
    assert not Ticket.objects.exists()
