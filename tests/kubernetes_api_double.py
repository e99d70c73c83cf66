"""A TEST DOUBLE of the Kubernetes API: an in-memory starlette app on 127.0.0.1.

It implements only the calls reformatters makes (batch/v1 Jobs and CronJobs in a namespace:
create, get, list with a label selector, server-side apply, delete) and keeps objects in a dict.
It does no validation, scheduling or defaulting beyond metadata bookkeeping; it is not a cluster.
Point reformatters at it with ``REFORMATTERS_KUBERNETES_API=<url>``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

KINDS = {"jobs": "Job", "cronjobs": "CronJob"}


@dataclass
class ApiState:
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    _versions: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def stored(self, resource: str, namespace: str) -> dict[str, dict[str, Any]]:
        return {
            name: obj
            for (res, ns, name), obj in self.objects.items()
            if res == resource and ns == namespace
        }

    def put(self, resource: str, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        metadata = obj.setdefault("metadata", {})
        metadata["namespace"] = namespace
        metadata["resourceVersion"] = str(next(self._versions))
        metadata.setdefault("uid", f"uid-{metadata['resourceVersion']}")
        metadata.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        obj.setdefault("apiVersion", "batch/v1")
        obj.setdefault("kind", KINDS[resource])
        self.objects[(resource, namespace, metadata["name"])] = obj
        return obj


def _status(code: int, reason: str, message: str) -> JSONResponse:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason}
    return JSONResponse({**body, "message": message, "code": code}, status_code=code)


def _matches(obj: dict[str, Any], selector: str | None) -> bool:
    if not selector:
        return True
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in selector.split(","):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def build_app(state: ApiState) -> Starlette:
    async def collection(request: Request) -> JSONResponse:
        resource, ns = request.path_params["resource"], request.path_params["namespace"]
        if resource not in KINDS:
            return _status(404, "NotFound", f"unknown resource {resource}")
        state.requests.append((request.method, resource, ns))
        if request.method == "GET":
            selector = request.query_params.get("labelSelector")
            items = [o for o in state.stored(resource, ns).values() if _matches(o, selector)]
            return JSONResponse(
                {
                    "apiVersion": "batch/v1",
                    "kind": f"{KINDS[resource]}List",
                    "metadata": {},
                    "items": items,
                }
            )
        obj = await request.json()
        name = obj.get("metadata", {}).get("name")
        if not name:
            return _status(422, "Invalid", "metadata.name is required")
        if name in state.stored(resource, ns):
            return _status(409, "AlreadyExists", f"{resource} {name!r} already exists")
        return JSONResponse(state.put(resource, ns, obj), status_code=201)

    async def item(request: Request) -> JSONResponse:
        resource, ns = request.path_params["resource"], request.path_params["namespace"]
        name = request.path_params["name"]
        if resource not in KINDS:
            return _status(404, "NotFound", f"unknown resource {resource}")
        state.requests.append((request.method, resource, name))
        existing = state.stored(resource, ns).get(name)
        if request.method == "PATCH":
            return await apply(request, resource, ns, name, existing)
        if existing is None:
            return _status(404, "NotFound", f"{resource} {name!r} not found")
        if request.method == "DELETE":
            del state.objects[(resource, ns, name)]
            return JSONResponse({"kind": "Status", "apiVersion": "v1", "status": "Success"})
        return JSONResponse(existing)

    async def apply(
        request: Request, resource: str, ns: str, name: str, existing: dict[str, Any] | None
    ) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        if content_type != "application/apply-patch+yaml":
            return _status(415, "UnsupportedMediaType", f"only server-side apply: {content_type}")
        if not request.query_params.get("fieldManager"):
            return _status(422, "Invalid", "fieldManager is required for apply")
        obj = yaml.safe_load(await request.body())
        if obj.get("metadata", {}).get("name") != name:
            return _status(422, "Invalid", "name in body and path differ")
        status = 200 if existing is not None else 201
        return JSONResponse(state.put(resource, ns, obj), status_code=status)

    base = "/apis/batch/v1/namespaces/{namespace}/{resource}"
    return Starlette(
        routes=[
            Route(base, collection, methods=["GET", "POST"]),
            Route(base + "/{name}", item, methods=["GET", "PATCH", "DELETE"]),
        ]
    )


@contextmanager
def serve_kubernetes_api() -> Iterator[tuple[str, ApiState]]:
    """Run the double on a free loopback port; yields (base URL, state)."""
    state = ApiState()
    config = uvicorn.Config(
        build_app(state), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "API double did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", state
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def api_env() -> Iterator[tuple[dict[str, str], ApiState]]:
    """The double running, and the environment that points reformatters at it."""
    with serve_kubernetes_api() as (url, state):
        yield {"REFORMATTERS_KUBERNETES_API": url, "REFORMATTERS_NAMESPACE": "weather"}, state
