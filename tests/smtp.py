"""A real SMTP server on loopback (aiosmtpd) for tests that deliver mail."""
from __future__ import annotations

import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"to": envelope.rcpt_tos, "message": message,
                              "text": message.get_body(("plain",)).get_content(),
                              "subject": str(message["subject"])})
        return "250 OK"


class SMTPServer:
    """Start and stop a recording SMTP server on a fixed loopback port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.recorder = Recorder()
        self.controller = None

    @property
    def messages(self):
        return self.recorder.messages

    def start(self):
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
