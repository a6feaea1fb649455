"""Real-world mails (``*.eml``) for the inbound tests, and a small builder for
mails whose headers a test varies. See README.md for where each file is from."""

from __future__ import annotations

from pathlib import Path

import pytest

from vivadesk_bench.mails import build

__all__ = ["build", "load", "nested", "with_inline_parts"]

HERE = Path(__file__).parent


def load(name: str) -> bytes:
    return (HERE / name).read_bytes()


def nested(levels: int) -> bytes:
    """A mail whose MIME parts nest ``levels`` deep."""
    head = (
        "From: kunde@example.com\r\nTo: helpdesk@viva.de\r\nSubject: tief\r\n"
        "Message-ID: <nested@example.com>\r\nMIME-Version: 1.0\r\n"
    )
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'
        for i in range(levels)
    )
    closing = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(levels)))
    body = "Content-Type: text/plain\r\n\r\ninnen\r\n"
    return (head + opening + body + closing).encode()


@pytest.fixture
def fresh_content_types():
    """Transactional tests flush the database; a content-type id cached by an
    earlier test must not outlive it (Wagtail's audit log checks the FK)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


def with_inline_parts(raw: bytes, parts: list[tuple[str, bytes, str, str]]) -> bytes:
    """``raw`` (a mail with an HTML part) with ``(name, data, "type/sub",
    content_id)`` parts related to its HTML, as mail clients send
    inline images."""
    from email import policy
    from email.parser import BytesParser

    mail = BytesParser(policy=policy.default).parsebytes(raw)
    html = mail.get_body(preferencelist=("html",))
    for name, data, ctype, content_id in parts:
        maintype, subtype = ctype.split("/")
        html.add_related(
            data,
            maintype=maintype,
            subtype=subtype,
            cid=f"<{content_id}>",
            filename=name,
        )
    return mail.as_bytes()
