"""django-mailbox's own paths never write inbound mail to public media (issue
15, item 6).

Its "Get new mail" admin action, its ``getmail`` and ``processincomingmessage``
commands and ``Mailbox.get_new_mail()`` stored attachments under
``MEDIA_ROOT`` (served inline: an ``.html`` attachment ran script in the
site's origin), and its ``Message``/``MessageAttachment`` admins showed them.
Here every one of those paths is driven for real, with a mail carrying an
HTML attachment, and ``MEDIA_ROOT`` must stay empty while the mail reaches
the help desk through its own pipeline (private storage).
"""

from __future__ import annotations

import email
import io
import mailbox
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_mailbox.models import Mailbox, Message, MessageAttachment

from tests import emails, factories
from vivadesk_wagtail.mailbox_guard import check_django_mailbox
from vivadesk_wagtail.models import InboundMail, Ticket, TicketAttachment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

SCRIPT = b"<html><script>alert(document.cookie)</script></html>"
LOG = b"Fehler 4711 im Druckertreiber\n"
CHANGELIST = "/django-admin/django_mailbox/mailbox/"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """A fresh, empty ``MEDIA_ROOT`` (the public default storage)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def private(tmp_path) -> Path:
    """The private storage's folder (set per test by ``conftest``)."""
    return tmp_path / "private"


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def mail_with_attachments(subject: str = "Druckerfehler") -> bytes:
    return emails.build(
        subject=subject,
        body="Im Anhang das Protokoll.",
        attachments=[
            ("protokoll.txt", LOG, "text/plain"),
            ("evil.html", SCRIPT, "text/html"),
        ],
    )


def maildir_mailbox(tmp_path, raw: bytes, name: str = "helpdesk") -> Mailbox:
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    box.add(raw)
    return Mailbox.objects.create(name=name, uri=f"maildir://{box._path}")


def assert_reached_the_help_desk_privately(raw: bytes, private: Path, media: Path):
    """The mail is one recorded row whose bytes and attachments live in the
    private storage; nothing of it is in ``MEDIA_ROOT`` or in django-mailbox's
    tables of its own pipeline."""
    assert files_under(media) == []
    assert not MessageAttachment.objects.exists()
    row = InboundMail.objects.get()
    assert row.read_raw() == raw
    ticket = Ticket.objects.get(subject="Druckerfehler")
    stored = TicketAttachment.objects.get(ticket=ticket, original_name="protokoll.txt")
    assert stored.file.read() == LOG
    private_files = files_under(private)
    assert any(p.read_bytes() == raw for p in private_files)
    assert any(p.read_bytes() == LOG for p in private_files)


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser(
        "root", "root@viva.de", "root-pass-123"
    )
    client.force_login(user)
    return client


def test_django_mailbox_message_admins_are_not_offered(operator):
    for model in ("message", "messageattachment"):
        url = f"/django-admin/django_mailbox/{model}/"
        for address in (url, f"{url}add/", f"{url}1/change/"):
            assert operator.get(address, follow=True).status_code == 404, address
    index = operator.get("/django-admin/django_mailbox/").content.decode()
    assert CHANGELIST in index
    assert "/django-admin/django_mailbox/message/" not in index


def test_the_mailbox_admin_fetches_through_the_help_desk(
    operator, tmp_path, media, private, django_capture_on_commit_callbacks
):
    factories.customer()
    raw = mail_with_attachments()
    box = maildir_mailbox(tmp_path, raw)
    page = operator.get(CHANGELIST).content.decode()
    assert 'value="fetch_new_mail"' in page
    assert 'value="get_new_mail"' not in page  # django-mailbox's own pipeline
    # Posted anyway, django-mailbox's action is refused and fetches nothing.
    operator.post(CHANGELIST, {"action": "get_new_mail", "_selected_action": box.pk})
    assert files_under(media) == []
    assert not InboundMail.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(
            CHANGELIST,
            {"action": "fetch_new_mail", "_selected_action": box.pk},
            HTTP_ACCEPT_LANGUAGE="en",
            follow=True,
        )
    assert "Mailbox “helpdesk”: 1 new mail." in response.content.decode()
    assert_reached_the_help_desk_privately(raw, private, media)
    assert not Message.objects.exists()
    assert mailbox.Maildir(str(tmp_path / "Maildir"), create=False).keys() == []


def test_getmail_polls_through_the_help_desk(tmp_path, media, private):
    factories.customer()
    raw = mail_with_attachments()
    maildir_mailbox(tmp_path, raw)
    out = io.StringIO()
    call_command("getmail", stdout=out)
    assert "helpdesk: 1 new" in out.getvalue()
    assert_reached_the_help_desk_privately(raw, private, media)
    assert not Message.objects.exists()


def test_processincomingmessage_records_the_bytes_as_received(
    monkeypatch, media, private
):
    factories.customer()
    raw = mail_with_attachments()
    Mailbox.objects.create(name="pipe")
    # A mail server pipes the mail into the command's standard input.
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    call_command("processincomingmessage", "pipe", stdout=io.StringIO())
    assert_reached_the_help_desk_privately(raw, private, media)
    assert InboundMail.objects.get().source == "pipe:pipe"


def test_django_mailbox_called_directly_writes_no_file(tmp_path, media, private):
    """Code calling django-mailbox's pipeline itself (``get_new_mail()``):
    with the settings the system check insists on, it stores no part; the
    help desk's receiver records the mail it parsed."""
    factories.customer()
    raw = mail_with_attachments()
    box = maildir_mailbox(tmp_path, raw)
    assert len(list(box.get_new_mail())) == 1
    assert files_under(media) == []
    assert not MessageAttachment.objects.exists()
    row = InboundMail.objects.get()
    parsed = email.message_from_bytes(row.read_raw())
    names = {part.get_filename() for part in parsed.walk() if part.get_filename()}
    assert names == {"protokoll.txt", "evil.html"}
    ticket = Ticket.objects.get(subject="Druckerfehler")
    stored = TicketAttachment.objects.get(ticket=ticket, original_name="protokoll.txt")
    assert stored.file.read() == LOG


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DJANGO_MAILBOX_STORE_ORIGINAL_MESSAGE", True),
        ("DJANGO_MAILBOX_STRIP_UNALLOWED_MIMETYPES", False),
        ("DJANGO_MAILBOX_ALLOWED_MIMETYPES", ["text/plain", "text/html"]),
    ],
)
def test_the_system_check_refuses_settings_that_write_mail_to_media(
    settings, setting, value
):
    assert check_django_mailbox() == []
    setattr(settings, setting, value)
    errors = check_django_mailbox()
    assert [error.id for error in errors] == ["vivadesk.E110"]
    assert setting in errors[0].msg


def test_the_system_check_wants_the_help_desks_mail_commands(monkeypatch):
    from vivadesk_wagtail import mailbox_guard

    assert mailbox_guard.get_commands()["getmail"] == "vivadesk_wagtail"
    # As if django_mailbox were listed first in INSTALLED_APPS.
    commands = {**mailbox_guard.get_commands(), "getmail": "django_mailbox"}
    monkeypatch.setattr(mailbox_guard, "get_commands", lambda: commands)
    errors = check_django_mailbox()
    assert [error.id for error in errors] == ["vivadesk.E111"]
    assert "getmail" in errors[0].msg
