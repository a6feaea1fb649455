"""Benchmarks and the load test of the help desk, an app of the reference site
(``manage.py vivadesk_bench``, ``manage.py vivadesk_load``; docs/benchmarks.md).
Each benchmark's ``run(stdout, …)`` seeds inside a transaction that is rolled
back, so it can run against any database. Not in the wheel: they need gunicorn
and locust, and a host site has no use for them."""
