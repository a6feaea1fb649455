"""Mails built in memory: the ingest benchmark's mix, and the mails of the
test suite whose headers a test varies (``tests/emails`` re-exports
:func:`build`)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone


def build(
    *,
    sender: str = "Erika Mustermann <kunde@example.com>",
    to: str = "helpdesk@viva.de",
    subject: str = "Frage",
    body: str = "Hallo, eine Frage.",
    message_id: str | None = "auto",
    in_reply_to: str = "",
    references: str = "",
    headers: dict | None = None,
    html: str | None = None,
    attachments: list[tuple[str, bytes, str]] = (),
) -> bytes:
    """A mail as bytes; ``attachments`` are ``(name, data, "type/sub")``;
    ``message_id="auto"`` makes a fresh one, ``None`` leaves it out."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(timezone.now())
    if message_id == "auto":
        message_id = make_msgid(domain="example.com")
    if message_id:
        mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail.as_bytes()
