"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, capturing what the app
sends over the wire (envelope and message).

Its fixtures are registered for the whole suite (``pytest_plugins`` in
``tests/conftest.py``); a test names them::

    def test_something(smtp_server):
        ...  # the app's EMAIL_* settings point at the server
        (msg,) = smtp_server.messages_to("kunde@example.com")
        msg.mail_from, msg.message["Subject"]

``smtp_server`` is running; ``smtp_down`` points Django at a free port where
nothing listens yet (connection refused) — call ``.start()`` to bring it up,
``.stop()`` to take it down again. ``server.reply_to_rcpt = "451 4.3.0 Try
later"`` makes it refuse every recipient with that reply (``None``: accept);
``server.refuse_rcpt["x@example.com"] = "550 5.1.1 No such user"`` refuses one
address. ``server.after_data`` and ``server.on_quit`` are hooks for faults
right after a message was accepted.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Captured:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage = field(repr=False)

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


class _Handler:
    def __init__(self, server: SMTPServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.server.refuse_rcpt.get(address.lower(), self.server.reply_to_rcpt)
        if reply:
            self.server.refused.append(address)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        captured = Captured(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            raw=raw,
            message=message_from_bytes(raw, policy=policy.default),
        )
        with self.server.lock:
            self.server.messages.append(captured)
        if self.server.after_data is not None:
            self.server.after_data(captured)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):
        if self.server.on_quit is not None:
            return self.server.on_quit(server)
        return "221 Bye"


class SMTPServer:
    """An aiosmtpd server on a fixed free port that can be stopped and
    started again (the app keeps the same ``EMAIL_PORT``)."""

    def __init__(self, port: int | None = None):
        self.host = HOST
        self.port = port or free_port()
        self.messages: list[Captured] = []
        self.refused: list[str] = []
        #: A reply such as ``"550 5.1.1 No such user"`` for every ``RCPT TO``.
        self.reply_to_rcpt: str | None = None
        #: Replies for single addresses (lower case), e.g. a dead mailbox.
        self.refuse_rcpt: dict[str, str] = {}
        #: Called with each accepted message just before the server answers
        #: its ``DATA`` with 250 (e.g. to break the sender's database
        #: connection at that moment).
        self.after_data = None
        #: Called with aiosmtpd's session object on ``QUIT``; returns the
        #: reply (or aborts the connection: ``smtp.transport.abort()``).
        self.on_quit = None
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SMTPServer:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def configure(self, settings) -> None:
        """Point Django's SMTP backend at this server (pytest-django's
        ``settings`` fixture)."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = self.host
        settings.EMAIL_PORT = self.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5

    def messages_to(self, address: str) -> list[Captured]:
        with self.lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.refused.clear()


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server; Django sends to it."""
    server = SMTPServer()
    server.configure(settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down(settings):
    """Django sends to a port where no server listens (yet); ``.start()`` it."""
    server = SMTPServer()
    server.configure(settings)
    yield server
    server.stop()
