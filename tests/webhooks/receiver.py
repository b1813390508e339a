"""A tiny threaded HTTP receiver for webhook tests: records every request
(path, headers, body) and answers as told (status, headers, body, a delay,
or a hold until released)."""

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    host: str
    port: int
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    reply_headers: dict = field(default_factory=dict)
    reply_body: bytes = b"ok"
    delay: float = 0.0
    release: threading.Event | None = None  # set: answer; unset: hold the request
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"


@contextmanager
def running_receiver(host: str = "127.0.0.1"):
    state = Receiver(host, 0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between writes

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            state.arrived.set()
            if state.release is not None:
                state.release.wait(120)
            if state.delay:
                threading.Event().wait(state.delay)
            try:
                self.send_response(state.status)
                for name, value in state.reply_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(state.reply_body)))
                self.end_headers()
                self.wfile.write(state.reply_body)
            except OSError:  # the sender gave up (a timeout) or was killed
                self.close_connection = True

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if state.release is not None:
            state.release.set()
        server.shutdown()
        server.server_close()
