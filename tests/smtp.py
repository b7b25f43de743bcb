"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, with Django's SMTP backend pointed at it.

Use the ``smtp_server`` fixture (tests/conftest.py imports it for every test)::

    def test_mail(smtp_server):
        ...send...
        [received] = smtp_server.messages
        assert received.rcpt_tos == ["alice@example.org"]
        assert received.message["Subject"] == "..."

Failures on demand: ``smtp_server.refuse["bob@example.org"] = 550`` answers that
recipient's ``RCPT TO`` with 550 (or 451, …); ``smtp_server.reply_code = 451``
answers every ``DATA`` with 451 instead of accepting the message;
``smtp_server.data_replies = [451]`` answers the next ``DATA`` commands with these
codes, one each, then accepts again (a server that recovers);
``smtp_server.sender_reply = 553`` answers every ``MAIL FROM`` with that code.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

REPLIES = {
    421: "Service not available, closing transmission channel",
    450: "Mailbox unavailable, try again later",
    451: "Local error in processing, try again later",
    452: "Insufficient system storage",
    550: "Mailbox unavailable",
    553: "Sender address rejected",
    552: "Exceeded storage allocation",
    554: "Transaction failed",
}


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted message: the envelope and the bytes as they came over the wire."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def part(self, content_type: str) -> str:
        """The decoded text of the first part of this type (``text/plain``, ``text/html``)."""
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                assert isinstance(part, EmailMessage)
                content = part.get_content()
                assert isinstance(content, str)
                return content
        raise AssertionError(f"The message has no {content_type} part.")


@dataclass
class SMTPServer:
    host: str
    port: int
    messages: list[ReceivedMessage] = field(default_factory=list)
    # Answer every DATA with this code instead of 250 (e.g. 451 or 550).
    reply_code: int | None = None
    # Answer RCPT TO for these (lower-cased) addresses with the code.
    refuse: dict[str, int] = field(default_factory=dict)
    # Answer the next DATA commands with these codes, one each, then as above.
    data_replies: list[int] = field(default_factory=list)
    # Every DATA answered, in order (accepted ones as 250).
    data_answers: list[int] = field(default_factory=list)
    # Answer every MAIL FROM with this code (e.g. 553: our sender address refused).
    sender_reply: int | None = None

    def clear(self) -> None:
        self.messages.clear()
        self.reply_code = None
        self.sender_reply = None
        self.refuse.clear()
        self.data_replies.clear()
        self.data_answers.clear()


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if self.server.sender_reply is not None:
            return _reply(self.server.sender_reply)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        code = self.server.refuse.get(address.lower())
        if code is not None:
            return _reply(code)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        code = self.server.data_replies.pop(0) if self.server.data_replies else None
        code = code if code is not None else self.server.reply_code
        if code is not None:
            self.server.data_answers.append(code)
            return _reply(code)
        self.server.data_answers.append(250)
        self.server.messages.append(
            ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content,
            )
        )
        return "250 Message accepted for delivery"


def _reply(code: int) -> str:
    return f"{code} {REPLIES.get(code, 'Refused by the test server')}"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SMTPServer]:
    """An SMTP server on a free local port, and Django's SMTP backend sending to it."""
    # aiosmtpd logs every command at INFO; keep the test output for failures.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    server = SMTPServer(host="127.0.0.1", port=_free_port("127.0.0.1"))
    controller = Controller(_Handler(server), hostname=server.host, port=server.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        controller.stop()
        server_log.setLevel(level)
