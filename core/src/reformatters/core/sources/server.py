"""A loopback HTTP mirror server (starlette + uvicorn) for tests, demos and air-gapped runs.

It serves a folder laid out like the providers' buckets (``<folder>/<bucket>/<key>``) with
single and multi-range GETs (starlette's ``FileResponse``), HEAD and 404s, counts requests and
body bytes sent, and can inject faults: a seeded fraction of 5xx answers, slow responses, and
ignoring ``Range`` headers (answering 200 with the whole file, like some misconfigured mirrors).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["FaultConfig", "MirrorServer", "MirrorStats", "run_mirror_server", "serve_mirror"]


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Faults to inject. ``error_rate`` is the fraction of requests answered ``error_status``;
    ``fail_first_get`` answers ``error_status`` to the first GET of each path, then serves it;
    ``status_for_all`` answers that status to every request."""

    error_rate: float = 0.0
    fail_first_get: bool = False
    status_for_all: int | None = None
    error_status: int = 503
    seed: int = 0
    delay_seconds: float = 0.0
    ignore_range: bool = False


@dataclass
class MirrorStats:
    """Counters of what the server did; read them through ``MirrorServer.stats``."""

    requests: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    bytes_sent: int = 0
    injected_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    range_headers: list[str | None] = field(default_factory=list)
    bytes_by_path: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.requests = 0
        self.methods.clear()
        self.bytes_sent = 0
        self.injected_errors = 0
        self.statuses.clear()
        self.range_headers.clear()
        self.bytes_by_path.clear()


class _StatsAndFaults:
    """ASGI middleware: counts bytes on the wire and injects the configured faults."""

    def __init__(self, app: ASGIApp, stats: MirrorStats, faults: FaultConfig) -> None:
        self.app = app
        self.stats = stats
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.lock = threading.Lock()
        self.got: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        range_header = headers.get(b"range")
        path = str(scope["path"])
        method = str(scope["method"])
        with self.lock:
            self.stats.requests += 1
            self.stats.methods[method] += 1
            self.stats.range_headers.append(range_header.decode() if range_header else None)
            inject_error = self.rng.random() < self.faults.error_rate
            if self.faults.fail_first_get and method == "GET" and path not in self.got:
                self.got.add(path)
                inject_error = True
        if self.faults.delay_seconds:
            await asyncio.sleep(self.faults.delay_seconds)
        if self.faults.ignore_range:
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"range"]}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                with self.lock:
                    self.stats.statuses[int(message["status"])] += 1
            elif message["type"] == "http.response.body":
                size = len(message.get("body", b""))
                with self.lock:
                    self.stats.bytes_sent += size
                    self.stats.bytes_by_path[path] += size
            await send(message)

        if inject_error:
            with self.lock:
                self.stats.injected_errors += 1
            response = PlainTextResponse("injected fault", status_code=self.faults.error_status)
            await response(scope, receive, counting_send)
            return
        if self.faults.status_for_all is not None:
            response = PlainTextResponse("refused", status_code=self.faults.status_for_all)
            await response(scope, receive, counting_send)
            return
        await self.app(scope, receive, counting_send)


class _WholeRangeFileResponse(FileResponse):
    # Starlette reads and sends 64 KiB at a time, each read a thread hand-off: serving one
    # ranged GRIB request (megabytes) then costs more CPU than the client spends on it.
    chunk_size = 16 * 1024 * 1024


def _build_app(folder: Path, stats: MirrorStats, faults: FaultConfig) -> ASGIApp:
    root = folder.resolve()

    async def serve_file(request: Request) -> Response:
        relative = request.path_params["path"]
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return PlainTextResponse(f"not found: {relative}", status_code=404)
        return _WholeRangeFileResponse(target)

    app = Starlette(routes=[Route("/{path:path}", serve_file, methods=["GET", "HEAD"])])
    return _StatsAndFaults(app, stats, faults)


class MirrorServer:
    """A running mirror server on a background thread."""

    def __init__(
        self,
        folder: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.faults = faults or FaultConfig()
        self.stats = MirrorStats()
        config = uvicorn.Config(
            _build_app(self.folder, self.stats, self.faults),
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="mirror-server", daemon=True)
        self._host = host
        self._port = port

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"mirror server for {self.folder} failed to start on port {self._port}"
                )
            time.sleep(0.01)
        self._port = int(self._server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)


@contextmanager
def serve_mirror(
    folder: Path, port: int = 0, faults: FaultConfig | None = None, host: str = "127.0.0.1"
) -> Iterator[MirrorServer]:
    """Serve ``folder`` over HTTP on ``host`` (loopback by default) while the block runs."""
    server = MirrorServer(folder, host=host, port=port, faults=faults)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_mirror_server(folder: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``folder`` in the foreground until interrupted (``reformat mirror serve``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"mirror folder {folder} does not exist or is not a directory")
    uvicorn.run(
        _build_app(folder, MirrorStats(), FaultConfig()), host=host, port=port, log_level="info"
    )
