"""A local webhook receiver that can fail, time out and answer slowly, and the deliverer
run in a thread, for the webhook tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from adapters.webhooks import WebhookTables
from api.events import Encoder
from bootstrap import Ledger
from projections.read_models import open_store
from relay.webhooks import Deliverer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int


@dataclass
class Receiver:
    """``http://127.0.0.1:PORT/NAME``: each NAME answers as ``behave[NAME]`` says, a
    function of the attempt number for that ``webhook-id`` (1, 2, …) returning
    ``(status, seconds to wait first)``; unknown names answer 200 at once."""

    behave: dict[str, Callable[[int], tuple[int, float]]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    attempts: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                name = self.path.strip("/")
                key = (name, self.headers.get("webhook-id", ""))
                with receiver.lock:
                    receiver.attempts[key] = receiver.attempts.get(key, 0) + 1
                    attempt = receiver.attempts[key]
                status, delay = receiver.behave.get(name, lambda n: (200, 0.0))(attempt)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    return  # the client gave up waiting
                with receiver.lock:
                    receiver.received.append(
                        Received(name, dict(self.headers.items()), body, time.monotonic(), status)
                    )

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered(self, name: str) -> list[Received]:
        """What ``name`` answered with a 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.received if r.path == name and 200 <= r.answered < 300]

    def ids(self, name: str) -> list[int]:
        return [int(r.headers["webhook-id"]) for r in self.delivered(name)]


@contextmanager
def receiving(**behave: Callable[[int], tuple[int, float]]) -> Iterator[Receiver]:
    receiver = Receiver(behave=dict(behave)).start()
    try:
        yield receiver
    finally:
        receiver.stop()


@contextmanager
def delivering(url: str, **options: Any) -> Iterator[Deliverer]:
    """A deliverer on its own ledger, in a thread, until the block ends."""
    ledger = Ledger(url)
    deliverer = Deliverer(Encoder(ledger), WebhookTables(open_store(ledger)), **options)
    thread = threading.Thread(target=lambda: asyncio.run(deliverer.run()), daemon=True)
    thread.start()
    try:
        yield deliverer
    finally:
        deliverer.stop()
        thread.join(30)
        ledger.close()
        assert not thread.is_alive(), "the deliverer did not stop"
