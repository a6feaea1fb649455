"""Helpers for the contact-page tests: fill in and post the form as a browser
would, read the mails it sent. The ``site`` fixture (the demo site with its
contact pages) is in ``tests/conftest.py``."""

from __future__ import annotations

import re

from django.core import mail

from vivadesk_wagtail.pages.forms import HONEYPOT


def form_data(client, url, **overrides):
    """The form's fields as the page at ``url`` hands them out (its hidden
    timestamp and idempotency key included), with ``overrides`` applied."""
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    shown = re.search(r'name="shown" value="([^"]+)"', html).group(1)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    data = {
        "name": "Erika Mustermann",
        "email": "erika@example.com",
        "subject": "Drucker druckt nicht",
        "message": "Seit gestern druckt der Drucker nicht mehr.",
        "customer_number": "K-42",
        HONEYPOT: "",
        "shown": shown,
        "idempotency_key": key,
    }
    data.update(overrides)
    return data


def post(client, url, **overrides):
    return client.post(url, form_data(client, url, **overrides))


def mails_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def normalised(response, address=""):
    """The page without what differs by design: the reference, the typed
    address (shown back to the visitor) and the CSRF token."""
    html = response.content.decode()
    html = re.sub(r"VIVA-\d+", "REF", html)
    if address:
        html = html.replace(address, "ADDRESS")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
