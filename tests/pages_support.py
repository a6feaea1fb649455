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


def choice_options(*labels_and_values) -> dict:
    """StreamField data of a form field's ``options``: ``"Label"`` or
    ``("Label", "value")`` per choice (an empty value is filled on save)."""
    from wagtail.test.utils.form_data import streamfield

    items = []
    for entry in labels_and_values:
        label, value = entry if isinstance(entry, tuple) else (entry, "")
        items.append(("choice", {"label": label, "value": value}))
    return streamfield(items)


def new_field_row(
    label, field_type="singleline", *, required=False, default="", options=()
):
    """One new extra-field row of the page editor's form-field panel."""
    row = {
        "id": "",
        "label": label,
        "help_text": "",
        "field_type": field_type,
        "default_value": default,
        "options": choice_options(*options),
    }
    if required:
        row["required"] = "on"
    return row


def stored_field_rows(page) -> list[dict]:
    """The page's stored extra fields as the page editor posts them back."""
    return [
        {
            "id": str(field.pk),
            "label": field.label,
            "help_text": field.help_text,
            "field_type": field.field_type,
            "default_value": field.default_value,
            "options": choice_options(
                *[(label, value) for value, label in field.choice_pairs()]
            ),
            **({"required": "on"} if field.required else {}),
        }
        for field in page.form_fields.all()
    ]


def contact_page_post(page=None, *rows, **values) -> dict:
    """The page editor's post of a contact page: ``page`` as it is with its
    stored extra fields kept and ``rows`` added after them, or (``page`` None)
    a new page from ``values`` (``title``, ``slug``) and ``rows``. ``values``
    override any field, e.g. ``category``."""
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

    kept = stored_field_rows(page) if page is not None else []
    data = {
        "title": page.title if page is not None else "",
        "slug": page.slug if page is not None else "",
        "intro": rich_text("<p>Schreiben Sie uns.</p>"),
        "thank_you_text": rich_text("<p>Danke.</p>"),
        "category": str(page.category_id or "") if page is not None else "",
        "comments": inline_formset([]),
        **{
            key: (rich_text(value) if key in ("intro", "thank_you_text") else value)
            for key, value in values.items()
        },
        "form_fields": inline_formset([*kept, *rows], initial=len(kept)),
    }
    return nested_form_data(data)
