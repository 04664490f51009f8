"""A real SMTP server (aiosmtpd) on loopback that keeps every message it accepted."""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 Message accepted for delivery"


class SmtpServer:
    """`with SmtpServer() as smtp:` then smtp.port, smtp.messages."""

    def __init__(self) -> None:
        self.handler = _Handler()
        self._port = _free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self._port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def port(self) -> int:
        return self._port

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
