"""A local HTTP server in a thread that records every request it receives and answers
as a test tells it to: Slack, Teams and webhook receivers for the tests, on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.utils.datastructures import CaseInsensitiveMapping


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: CaseInsensitiveMapping  # as web frameworks read them
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow receiver)


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self._replies: deque[Reply] = deque()
        self.default = Reply()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the name http.server calls)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            "POST", self.path, CaseInsensitiveMapping(self.headers.items()), body
                        )
                    )
                    reply = receiver._replies.popleft() if receiver._replies else receiver.default
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def url(self, path: str = "/hook") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def reply(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order; then with `default`."""
        with self._lock:
            self._replies.extend(replies)

    def to(self, path: str) -> list[Received]:
        return [request for request in self.received if request.path == path]
