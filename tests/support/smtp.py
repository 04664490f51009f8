"""A real SMTP server (aiosmtpd) on loopback that keeps every message it accepted."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


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
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=0)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def port(self) -> int:
        return int(self._controller.server.sockets[0].getsockname()[1])

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
