"""A real SMTP server on loopback for the task queue's tests: it counts every connection, keeps
every message it takes, and answers the recipients named in ``replies`` with that code."""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes, policy
from email.message import Message


class FakeSmtpServer:
    """An SMTP server in a thread on 127.0.0.1 (a free port): ``connections`` counts the
    connections, ``messages`` holds (recipient, message) of each one taken, ``replies`` maps
    an address to the code its ``RCPT TO`` is answered with (e.g. 451: refused for now)."""

    def __init__(self) -> None:
        self.connections = 0
        self.messages: list[tuple[str, Message]] = []
        self.replies: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    def recipients(self) -> list[str]:
        """The recipient of each message taken, in order."""
        with self._lock:
            return [recipient for recipient, _message in self.messages]

    def _connected(self) -> None:
        with self._lock:
            self.connections += 1

    def _took(self, recipient: str, data: bytes) -> None:
        with self._lock:
            self.messages.append((recipient, message_from_bytes(data, policy=policy.default)))


class _Handler(socketserver.StreamRequestHandler):
    """One SMTP session: EHLO, MAIL, RCPT, DATA, RSET, QUIT; nothing else."""

    def say(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        fake: FakeSmtpServer = self.server.fake
        fake._connected()
        self.say("220 fake.example.test ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].split(":", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.say("250 fake.example.test")
            elif verb in ("MAIL", "RSET"):
                recipients = []
                self.say("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                code = fake.replies.get(address)
                if code:
                    self.say(f"{code} not now" if code < 500 else f"{code} no such user")
                else:
                    recipients.append(address)
                    self.say("250 OK")
            elif verb == "DATA":
                self.say("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                for recipient in recipients:
                    fake._took(recipient, b"".join(data))
                self.say("250 OK: queued")
            elif verb == "QUIT":
                self.say("221 Bye")
                return
            else:
                self.say("502 Command not implemented")
