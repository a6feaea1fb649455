"""Locust users of the load test (``manage.py vivadesk_load``, see ``load.py``).
Not imported by Django: ``load.py`` runs ``locust -f`` on this file in a
subprocess (locust patches the standard library with gevent on import).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path

from locust import HttpUser, between, events, task

#: The plan: URLs, seeded customers, the form's minimum fill time.
PLAN = json.loads(Path(os.environ["VIVADESK_LOAD_PLAN"]).read_text())
#: Every contact-form submission is written here when locust quits, for the
#: ticket check.
RESULTS = Path(os.environ["VIVADESK_LOAD_RESULTS"])
#: One entry per contact-form submission (``status``: ok, failed, pending).
SUBMISSIONS: list[dict] = []
#: Every request: name, milliseconds, end time, error (``None`` when fine).
#: Kept here rather than in locust's CSV, which is written before the users
#: have finished their last task.
REQUESTS: list[tuple] = []
CUSTOMERS = itertools.cycle(PLAN["customers"])
REFERENCE_RE = re.compile(
    r'class="vivadesk-reference".*?<strong>\s*([^<\s]+)\s*</strong>', re.S
)


def field_value(html: str, name: str) -> str | None:
    """The ``value`` of the ``<input name=…>`` (Django renders name first)."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def _why(response) -> str:
    return f"{response.status_code} {response.error or ''}".strip()


class ContactUser(HttpUser):
    """Loads the contact page, waits as long as a person needs at least
    (``MIN_FILL_SECONDS``), and sends the form with a unique address and
    subject; one submission in ten is sent twice with the same idempotency
    key (a double click), which must give the same ticket."""

    weight = 2
    wait_time = between(0.2, 1.0)

    @task
    def submit_the_form(self):
        url = PLAN["contact_url"]
        with self.client.get(
            url, name="contact page (GET)", catch_response=True
        ) as response:
            hidden = {
                name: field_value(response.text, name)
                for name in ("csrfmiddlewaretoken", "shown", "idempotency_key")
            }
            if response.status_code != 200 or None in hidden.values():
                response.failure(f"no contact form: {_why(response)}")
                return
        # A person needs at least MIN_FILL_SECONDS to fill in the form.
        time.sleep(PLAN["min_fill_seconds"] + 0.2)
        token = uuid.uuid4().hex
        entry = {
            "email": f"load-{PLAN['run']}-{token}@example.com",
            "subject": f"Load {PLAN['run']} {token}",
            "status": "pending",
            "references": [],
        }
        SUBMISSIONS.append(entry)
        data = {
            **hidden,
            "name": "Lena Last",
            "email": entry["email"],
            "subject": entry["subject"],
            "message": "Der Drucker im zweiten Stock druckt nur leere Seiten.",
            "website": "",
        }
        posts = 2 if random.random() < PLAN["double_submit_share"] else 1
        for attempt in range(posts):
            name = "contact form (POST)" if attempt == 0 else "contact form (again)"
            with self.client.post(
                url, data=data, name=name, catch_response=True
            ) as response:
                match = REFERENCE_RE.search(response.text or "")
                if response.status_code != 200 or not match:
                    entry["status"] = "failed"
                    response.failure(f"no ticket reference: {_why(response)}")
                    return
                entry["references"].append(match.group(1))
        if len(set(entry["references"])) != 1:
            entry["status"] = "failed"
            self.environment.events.request.fire(
                request_type="CHECK",
                name="double submit gives one ticket",
                response_time=0,
                response_length=0,
                exception=AssertionError(f"two references {entry['references']}"),
            )
            return
        entry["status"] = "ok"


class PortalUser(HttpUser):
    """Logs in as a seeded customer and reads "My requests" and its ticket
    pages."""

    weight = 1
    wait_time = between(0.2, 1.0)

    def on_start(self):
        self.customer = next(CUSTOMERS)
        login = PLAN["login_url"]
        page = self.client.get(login, name="login (GET)")
        with self.client.post(
            login,
            data={
                "csrfmiddlewaretoken": field_value(page.text, "csrfmiddlewaretoken"),
                "username": self.customer["email"],
                "password": PLAN["password"],
                "next": "",
            },
            name="login (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused: {_why(response)}")

    @task(3)
    def my_requests(self):
        with self.client.get(
            PLAN["my_requests_url"], name="My requests", catch_response=True
        ) as response:
            if self.customer["references"][0] not in response.text:
                response.failure("own ticket missing from My requests")

    @task(2)
    def ticket_page(self):
        reference = random.choice(self.customer["references"])
        with self.client.get(
            PLAN["ticket_url"].replace("REFERENCE", reference),
            name="ticket page",
            catch_response=True,
        ) as response:
            if reference not in response.text:
                response.failure("ticket page without its reference")


@events.request.add_listener
def _record(name, response_time, exception=None, **_kwargs):
    error = None if exception is None else f"{type(exception).__name__}: {exception}"
    REQUESTS.append((name, response_time, time.time(), error and error[:300]))


@events.quitting.add_listener
def _write_results(environment, **_kwargs):
    RESULTS.write_text(json.dumps({"submissions": SUBMISSIONS, "requests": REQUESTS}))
