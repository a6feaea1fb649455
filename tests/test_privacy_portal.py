"""The customer's side of data protection: "Your data" on the account page,
the export from the request to the download, the erasure from the request
through its confirm and cancel links, and their mails."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import authenticate
from django.core import mail, signing
from django.utils import timezone, translation
from django.utils.formats import date_format

from tests import factories
from tests.portal_support import alice, bob, url
from vivadesk_wagtail import privacy_tasks
from vivadesk_wagtail.accounts import erasure_tokens
from vivadesk_wagtail.mail import account_notifications, outbound
from vivadesk_wagtail.models import (
    DataRequest,
    DataRequestKind,
    DataRequestState,
    ErasureReason,
    OutboundEmail,
)
from vivadesk_wagtail.services import data_requests

pytestmark = pytest.mark.django_db
PASSWORD = "kunden-pass-123"


def link_in(message, path_part: str) -> str:
    """The path of the link in a mail's text part that contains
    ``path_part``."""
    found = re.search(r"https?://\S*" + re.escape(path_part) + r"\S*", message.body)
    assert found, message.body
    return urlsplit(found.group(0)).path


def shown(value, fmt: str, language: str = "en") -> str:
    """A date-time as pages and mails print it in ``language``."""
    with translation.override(language):
        return date_format(timezone.localtime(value), fmt)


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def ready_export(user, *, size: int = 2048) -> DataRequest:
    """An export that can be downloaded (its archive a small zip)."""
    request = data_requests.request_export(user)
    name = f"vivadesk/exports/test-{request.pk}.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<p>Alice</p>")
    request.file.storage.save(name, io.BytesIO(buffer.getvalue()))
    data_requests.finish_export(request, name, size, {"tickets": 0})
    return request


# --- the account page ------------------------------------------------------------


def test_the_account_page_offers_both_actions_as_posts(client):
    client.force_login(alice())
    with translation.override("en"):
        page = client.get(url("account", lang="en"))
    html = page.content.decode()
    section = html[html.index('id="your-data"') :]
    assert "Your data" in section
    assert f'action="{url("data_export", lang="en")}"' in section
    assert f'action="{url("erasure_request", lang="en")}"' in section
    assert section.count('name="csrfmiddlewaretoken"') == 2
    assert "14 days later, your account and your data are erased for good." in section
    assert "kept for our statistics, but without any personal data" in section
    assert "Your files and the e-mails you sent us are deleted." in section
    assert "download your data first" in section
    assert page.context["export"] is None


def test_the_account_page_says_what_erasure_does_with_deleted_tickets(client, settings):
    settings.VIVADESK = {**settings.VIVADESK, "ERASURE_TICKETS": "delete"}
    client.force_login(alice())
    with translation.override("en"):
        html = client.get(url("account", lang="en")).content.decode()
    assert "Your requests are deleted with all their messages." in html
    assert "for our statistics" not in html


def test_the_account_page_shows_a_ready_export_with_size_and_end(client):
    user = alice()
    export = ready_export(user, size=5 * 1024 * 1024)
    client.force_login(user)
    with translation.override("en"):
        html = client.get(url("account", lang="en")).content.decode()
    assert f'href="{url("data_export_download", export.pk, lang="en")}"' in html
    assert "5.0\xa0MB" in html
    assert f"Available until {shown(export.expires_at, 'DATETIME_FORMAT')}." in html
    assert "Prepare my data again" in html


def test_the_account_page_shows_an_export_in_progress_without_the_button(client):
    user = alice()
    data_requests.request_export(user)
    client.force_login(user)
    with translation.override("en"):
        html = client.get(url("account", lang="en")).content.decode()
    assert "Your data is being prepared." in html
    assert url("data_export", lang="en") not in html


def test_staff_see_no_data_section(client, agent):
    client.force_login(agent)
    page = client.get(url("account"))
    assert page.status_code == 200
    assert 'id="your-data"' not in page.content.decode()
    assert client.post(url("data_export")).status_code == 404
    assert client.post(url("erasure_request")).status_code == 404
    assert not DataRequest.objects.exists()


# --- the export ------------------------------------------------------------------


def test_the_whole_export_flow(
    client, agent, editor, django_capture_on_commit_callbacks
):
    user, other = alice(), bob()
    factories.ticket(user, subject="Drucker im Flur")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("data_export"))
    assert response.status_code == 302
    assert response["Location"] == url("account") + "#your-data"
    export = DataRequest.objects.get(kind=DataRequestKind.EXPORT)
    # The sync task queue built it when the request committed; run it again
    # as a redelivered task would: nothing changes.
    assert privacy_tasks.build_export(export.pk) == "skipped"
    export.refresh_from_db()
    assert export.state == DataRequestState.READY
    assert export.size > 0 and export.file.name.endswith(".zip")

    row = OutboundEmail.objects.get(event="export_ready")
    assert row.ticket_id is None
    assert row.context == {"user": user.pk, "request": export.pk}
    (ready,) = [m for m in mails_to("alice@example.com") if "/account/" in m.body]
    assert link_in(ready, "/account/") == url("account")

    download = url("data_export_download", export.pk)
    response = client.get(download)
    assert response.status_code == 200
    day = timezone.localdate(export.completed_at).isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="vivadesk-daten-{day}.zip"'
    )
    assert response["Content-Type"] == "application/zip"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None and archive.namelist()

    for stranger in (other, agent, editor):
        client.force_login(stranger)
        assert client.get(download).status_code == 404, stranger
    client.logout()
    anonymous = client.get(download)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(url("login"))


def test_no_download_while_pending_after_expiry_or_without_the_file(client):
    user = alice()
    client.force_login(user)
    export = ready_export(user)
    download = url("data_export_download", export.pk)
    assert client.get(download).status_code == 200

    export.file.storage.delete(export.file.name)
    assert client.get(download).status_code == 404

    later = ready_export(user)
    DataRequest.objects.filter(pk=later.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(url("data_export_download", later.pk)).status_code == 404

    pending = data_requests.request_export(user)
    assert client.get(url("data_export_download", pending.pk)).status_code == 404
    assert client.post(url("data_export_download", pending.pk)).status_code == 405


def test_the_download_is_named_in_english_for_english(client):
    user = alice()
    export = ready_export(user)
    client.force_login(user)
    response = client.get(url("data_export_download", export.pk, lang="en"))
    assert 'filename="vivadesk-data-' in response["Content-Disposition"]


def test_one_export_at_a_time(client):
    user = alice()
    client.force_login(user)
    client.post(url("data_export", lang="en"))
    response = client.post(url("data_export", lang="en"), follow=True)
    assert DataRequest.objects.filter(kind=DataRequestKind.EXPORT).count() == 1
    texts = [str(m) for m in response.context["messages"]]
    assert texts[0].startswith("Your data is being prepared.")
    assert texts[1].startswith("Your data is already being prepared.")


def test_exports_are_rate_limited_per_customer(client, settings):
    settings.VIVADESK = {**settings.VIVADESK, "RATE_EXPORTS_PER_CUSTOMER": "2/d"}
    user = alice()
    client.force_login(user)
    for _ in range(2):
        assert client.post(url("data_export")).status_code == 302
        DataRequest.objects.filter(state=DataRequestState.PENDING).update(
            state=DataRequestState.EXPIRED
        )
    refused = client.post(url("data_export"))
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 86400
    assert DataRequest.objects.count() == 2
    # another customer has a counter of their own
    client.force_login(bob())
    assert client.post(url("data_export")).status_code == 302


def test_the_export_actions_need_a_post_and_a_login(client):
    assert client.post(url("data_export")).status_code == 302
    assert client.post(url("erasure_request")).status_code == 302
    assert not DataRequest.objects.exists()
    client.force_login(alice())
    assert client.get(url("data_export")).status_code == 405
    assert client.get(url("erasure_request")).status_code == 405
    assert not DataRequest.objects.exists()


# --- the erasure -----------------------------------------------------------------


def ask_for_erasure(client, user, capture) -> str:
    """The customer asks on the account page; the confirm link's path."""
    client.force_login(user)
    with capture(execute=True):
        response = client.post(url("erasure_request"))
    assert response.status_code == 302
    (confirm,) = [m for m in mails_to(user.email) if "/delete/confirm/" in m.body]
    return link_in(confirm, "/delete/confirm/")


def test_the_whole_erasure_flow(client, django_capture_on_commit_callbacks):
    user = alice()
    capture = django_capture_on_commit_callbacks
    confirm = ask_for_erasure(client, user, capture)
    erasure = DataRequest.objects.get(kind=DataRequestKind.ERASURE)
    assert erasure.state == DataRequestState.AWAITING
    assert OutboundEmail.objects.get(event="erasure_confirm").context == {
        "user": user.pk,
        "request": erasure.pk,
    }

    # Opening the link (a mail scanner does) changes nothing.
    page = client.get(confirm)
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    erasure.refresh_from_db()
    user.refresh_from_db()
    assert erasure.state == DataRequestState.AWAITING and user.is_active

    with capture(execute=True):
        done = client.post(confirm)
    assert done.status_code == 200
    erasure.refresh_from_db()
    user.refresh_from_db()
    assert erasure.state == DataRequestState.SCHEDULED
    assert not user.is_active
    due = timezone.localtime(erasure.due_at)
    assert erasure.due_at - erasure.confirmed_at == timedelta(days=14)
    assert f"{due.day}. " in done.content.decode()
    # logged out here, and no way back in
    assert client.get(url("my_requests")).status_code == 302
    assert authenticate(email=user.email, password=PASSWORD) is None
    login = client.post(url("login"), {"username": user.email, "password": PASSWORD})
    assert login.status_code == 200
    assert not login.wsgi_request.user.is_authenticated

    (scheduled,) = [m for m in mails_to(user.email) if "/delete/cancel/" in m.body]
    cancel = link_in(scheduled, "/delete/cancel/")

    # the confirm link once more: used
    for method in (client.get, client.post):
        again = method(confirm)
        assert again.status_code == 400
        assert "already been used" in again.content.decode() or "bereits" in (
            again.content.decode()
        )

    page = client.get(cancel)
    assert page.status_code == 200
    erasure.refresh_from_db()
    assert erasure.state == DataRequestState.SCHEDULED
    with capture(execute=True):
        cancelled = client.post(cancel)
    assert cancelled.status_code == 200
    assert url("login") in cancelled.content.decode()
    erasure.refresh_from_db()
    user.refresh_from_db()
    assert erasure.state == DataRequestState.CANCELLED
    assert user.is_active
    assert authenticate(email=user.email, password=PASSWORD) == user
    assert [m for m in mails_to(user.email) if "/login/" in m.body]
    assert OutboundEmail.objects.filter(event="erasure_cancelled").count() == 1

    assert client.post(cancel).status_code == 400
    user.refresh_from_db()
    assert user.is_active


def test_confirming_in_a_browser_signed_in_as_someone_else_keeps_that_session(
    client, django_capture_on_commit_callbacks
):
    user, other = alice(), bob()
    confirm = ask_for_erasure(client, user, django_capture_on_commit_callbacks)
    client.force_login(other)
    assert client.post(confirm).status_code == 200
    assert client.get(url("my_requests")).status_code == 200


def test_an_expired_confirm_link_does_nothing(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    user = alice()
    confirm = ask_for_erasure(client, user, django_capture_on_commit_callbacks)
    later = signing.time.time() + timedelta(days=2, seconds=5).total_seconds()
    monkeypatch.setattr(signing.time, "time", lambda: later)
    for method in (client.get, client.post):
        response = method(confirm)
        assert response.status_code == 410
    user.refresh_from_db()
    assert user.is_active
    erasure = DataRequest.objects.get()
    assert erasure.state == DataRequestState.AWAITING
    with translation.override("en"):
        html = client.get(confirm.replace("/de/", "/en/", 1)).content.decode()
    assert "This confirmation link has expired" in html


def test_a_newer_request_replaces_the_confirm_link(
    client, django_capture_on_commit_callbacks
):
    user = alice()
    first = ask_for_erasure(client, user, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    second = ask_for_erasure(client, user, django_capture_on_commit_callbacks)
    assert client.post(first).status_code == 400
    assert client.post(second).status_code == 200


def swapped_payload(token: str, request_pk: int) -> str:
    """``token`` with another request's number in its payload."""
    payload, *rest = token.split(":")
    data = json.loads(signing.b64_decode(payload.encode()))
    data["r"] = request_pk
    forged = signing.b64_encode(json.dumps(data, separators=(",", ":")).encode())
    return ":".join([forged.decode(), *rest])


def test_a_token_never_acts_on_another_request_or_purpose(client):
    user, other = alice(), bob()
    mine = data_requests.request_erasure(user)
    theirs = data_requests.request_erasure(other)
    forged = [
        # my token's signature on a payload naming the other request
        swapped_payload(erasure_tokens.make(mine, "confirm"), theirs.pk),
        # tampered
        erasure_tokens.make(mine, "confirm")[:-2] + "xy",
        # the cancel token of the same request
        erasure_tokens.make(mine, "cancel"),
        # the right payload under another salt
        signing.dumps({"r": mine.pk, "u": user.pk, "p": "confirm"}, salt="other"),
        # a payload naming the other customer's request with my user
        signing.dumps(
            {"r": theirs.pk, "u": user.pk, "p": "confirm"}, salt=erasure_tokens.SALT
        ),
        "not-a-token",
    ]
    for token in forged:
        response = client.post(url("erasure_confirm", token))
        assert response.status_code == 400, token
    client.post(url("erasure_confirm", erasure_tokens.make(theirs, "confirm")))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.state == DataRequestState.AWAITING
    assert theirs.state == DataRequestState.SCHEDULED
    user.refresh_from_db()
    assert user.is_active
    # a confirm token does not cancel
    confirm_of_theirs = erasure_tokens.make(theirs, "confirm")
    assert client.post(url("erasure_cancel", confirm_of_theirs)).status_code == 400
    theirs.refresh_from_db()
    assert theirs.state == DataRequestState.SCHEDULED


def test_the_cancel_link_ends_when_the_erasure_is_due(client):
    user = alice()
    erasure = data_requests.request_erasure(user)
    data_requests.confirm_erasure(erasure)
    token = erasure_tokens.make(erasure, "cancel")
    DataRequest.objects.filter(pk=erasure.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(url("erasure_cancel", token)).status_code == 410
    assert client.post(url("erasure_cancel", token)).status_code == 410
    erasure.refresh_from_db()
    user.refresh_from_db()
    assert erasure.state == DataRequestState.SCHEDULED and not user.is_active


def test_erasure_mails_are_rate_limited_per_customer(client, settings):
    settings.VIVADESK = {
        **settings.VIVADESK,
        "RATE_ERASURE_MAILS_PER_CUSTOMER": "2/h",
    }
    client.force_login(alice())
    assert client.post(url("erasure_request")).status_code == 302
    assert client.post(url("erasure_request")).status_code == 302
    refused = client.post(url("erasure_request"))
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert OutboundEmail.objects.filter(event="erasure_confirm").count() == 2


# --- the mails ---------------------------------------------------------------------


def rendered(event: str, user):
    row = OutboundEmail.objects.filter(event=event, context__user=user.pk).get()
    return outbound.render(row)


def test_the_mails_in_english(settings):
    settings.VIVADESK = {**settings.VIVADESK, "BASE_URL": "https://help.example"}
    user = factories.customer("en@example.com", language="en", name="Ed English")
    export = ready_export(user)
    erasure = data_requests.request_erasure(user)
    data_requests.confirm_erasure(erasure)
    data_requests.cancel_erasure(erasure)
    export.refresh_from_db()
    erasure.refresh_from_db()

    ready = rendered("export_ready", user)
    assert ready.subject == "Your data from the VIVA HelpDesk is ready"
    assert "Hello Ed English," in ready.text
    assert "Download your data: https://help.example/en/helpdesk/account/" in (
        ready.text
    )
    until = shown(export.expires_at, "DATETIME_FORMAT")
    assert f"The download is available until {until}." in ready.text

    confirm = rendered("erasure_confirm", user)
    assert confirm.subject == "Please confirm the deletion of your account"
    assert "/en/helpdesk/account/delete/confirm/" in confirm.text
    assert "The link is valid for 2 days." in confirm.text
    assert "14 days later, your account and your data are erased" in confirm.text
    assert "without any personal data" in confirm.text

    scheduled = rendered("erasure_scheduled", user)
    assert scheduled.subject == "Your account will be deleted"
    assert "You have confirmed the deletion" in scheduled.text
    due = shown(erasure.due_at, "DATE_FORMAT")
    assert f"Your account is deactivated and will be erased on {due}." in (
        scheduled.text
    )
    assert "Keep my account: https://help.example/en/helpdesk/account/delete/" in (
        scheduled.text
    )

    cancelled = rendered("erasure_cancelled", user)
    assert cancelled.subject == "Your account will not be deleted"
    assert "Your account is active again" in cancelled.text
    assert "https://help.example/en/helpdesk/login/" in cancelled.text
    for message in (ready, confirm, scheduled, cancelled):
        assert '<html lang="en"' in message.html


def test_the_mails_in_german(settings):
    settings.VIVADESK = {**settings.VIVADESK, "BASE_URL": "https://help.example"}
    user = factories.customer("de@example.com", language="de", name="Dora Deutsch")
    ready_export(user)
    erasure = data_requests.request_erasure(user)
    data_requests.confirm_erasure(erasure)
    erasure.refresh_from_db()
    for event in ("export_ready", "erasure_confirm", "erasure_scheduled"):
        message = rendered(event, user)
        assert '<html lang="de"' in message.html, event
        assert "https://help.example/de/helpdesk/" in message.text, event
        assert "Dora Deutsch" in message.text, event
    subjects = {
        "export_ready": "Ihre Daten aus dem VIVA HelpDesk stehen bereit",
        "erasure_confirm": "Bitte bestätigen Sie die Löschung Ihres Kontos",
        "erasure_scheduled": "Ihr Konto wird gelöscht",
    }
    for event, subject in subjects.items():
        assert rendered(event, user).subject == subject
    scheduled = rendered("erasure_scheduled", user)
    due = shown(erasure.due_at, "DATE_FORMAT", "de")
    assert f"Ihr Konto ist deaktiviert und wird am {due} endgültig gelöscht." in (
        scheduled.text
    )
    assert "Konto behalten: http" in scheduled.text
    assert "/de/helpdesk/account/delete/cancel/" in scheduled.text


def test_an_agent_scheduled_erasure_mails_the_cancel_link(agent):
    user = factories.customer("en@example.com", language="en")
    erasure = data_requests.schedule_erasure_by_agent(
        user, agent=agent, reason=ErasureReason.CUSTOMER_ASKED
    )
    message = rendered("erasure_scheduled", user)
    assert "Our team has arranged for your account" in message.text
    token = urlsplit(
        re.search(r"https?://\S+/delete/cancel/\S+", message.text).group(0)
    ).path.split("/")[-2]
    assert erasure_tokens.read(token, "cancel").request == erasure


def test_data_request_mails_go_to_an_undeliverable_address_but_never_to_staff(
    agent,
):
    user = alice()
    profile = user.helpdesk_profile
    profile.mail_undeliverable = True
    profile.save()
    data_requests.request_erasure(user)
    assert OutboundEmail.objects.filter(event="erasure_confirm").count() == 1
    staff_request = DataRequest(kind=DataRequestKind.ERASURE, user=agent, pk=999)
    assert (
        account_notifications.queue("erasure_scheduled", agent, request=staff_request)
        is None
    )
    with pytest.raises(ValueError):
        account_notifications.queue("erasure_scheduled", user)
