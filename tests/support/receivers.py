"""Scriptable loopback receivers for delivery and end-to-end tests: a Standard Webhooks HTTP endpoint and SMTP.

The webhook receiver verifies signatures with the independent `standardwebhooks` package and
answers from a script: a status code, (status, retry_after), or "stall" (sleep past the
sender's deadline). The SMTP server (aiosmtpd) answers DATA with a scripted reply code.
"""

from __future__ import annotations

import email.policy
import json
import socket
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from standardwebhooks.webhooks import Webhook

Answer = int | tuple[int, str] | str


@dataclass(frozen=True)
class Hit:
    headers: dict[str, str]
    body: bytes
    status: int
    verified: bool

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def alert_ids(self) -> list[int]:
        data = self.payload
        if data.get("type") == "batch":
            return [a["alert_id"] for a in data["alerts"]]
        return [data["alert_id"]]


class WebhookReceiver:
    def __init__(self, secrets: tuple[str, ...] = (), default: Answer = 204,
                 stall_seconds: float = 3.0) -> None:
        self.secrets = secrets
        self.default = default
        self.script: deque[Answer] = deque()
        self.hits: list[Hit] = []
        self.stall_seconds = stall_seconds
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def accepted(self) -> list[Hit]:
        return [h for h in self.hits if 200 <= h.status < 300]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> Answer:
        with self._lock:
            return self.script.popleft() if self.script else self.default

    def _verify(self, body: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except Exception:
                continue
        return not self.secrets

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was delivered
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = receiver._next()
                if answer == "stall":
                    time.sleep(receiver.stall_seconds)
                    answer = 204
                status, retry_after = answer if isinstance(answer, tuple) else (answer, None)
                assert isinstance(status, int)
                with receiver._lock:
                    receiver.hits.append(Hit(headers, body, status,
                                             receiver._verify(body, headers)))
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("content-length", "0")
                self.end_headers()

        return Handler


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _SmtpHandler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.server.next_reply()
        if reply.startswith("250"):
            self.server.raw.append(envelope.original_content)
            self.server.messages.append(message_from_bytes(envelope.original_content))
        return reply


class SmtpServer:
    """aiosmtpd on loopback; `script` holds DATA replies ("451 ...", "550 ..."), else 250."""

    def __init__(self, auth_fails: bool = False) -> None:
        self.script: deque[str] = deque()
        self.messages: list[Message] = []
        self.raw: list[bytes] = []
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if auth_fails:
            kwargs = {"authenticator": _refuse, "auth_require_tls": False}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._controller = Controller(_SmtpHandler(self), hostname="127.0.0.1",
                                          port=self.port, **kwargs)

    def emails(self) -> list[EmailMessage]:
        """The accepted messages parsed with the modern email policy (get_body, decoded headers)."""
        parsed = [message_from_bytes(raw, policy=email.policy.default) for raw in self.raw]
        return [m for m in parsed if isinstance(m, EmailMessage)]

    def next_reply(self) -> str:
        return self.script.popleft() if self.script else "250 OK"

    def __enter__(self) -> SmtpServer:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def _refuse(*_args: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)
