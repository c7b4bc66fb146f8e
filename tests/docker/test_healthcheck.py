"""docker/healthcheck.py, the images' HEALTHCHECK, run against real servers on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from loadtest.processes import free_port
from tests.docker.stack import DOCKER_DIR

HEALTHCHECK = DOCKER_DIR / "healthcheck.py"


def run_healthcheck(port: int, api_keys: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MODERATION_PORT": str(port), "MODERATION_API_KEYS": api_keys}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_healthy_once_the_service_is_ready(start_service: Any, tiny_artifact: Path) -> None:
    service = start_service(tiny_artifact)
    port = int(service.port)
    try:
        result = run_healthcheck(port)
        assert result.returncode == 0, result.stderr
    finally:
        service.stop()
    assert run_healthcheck(port).returncode == 1  # and unhealthy once it has stopped


def test_unhealthy_when_nothing_listens() -> None:
    result = run_healthcheck(free_port())
    assert result.returncode == 1
    assert "/readyz" in result.stderr


class _FakeReadiness(BaseHTTPRequestHandler):
    """/readyz answers 503 (still warming up), or 200 only to the key in `server.key`."""

    def do_GET(self) -> None:
        key = getattr(self.server, "key", None)
        if self.path != "/readyz":
            status = 404
        elif key is None:
            status = 503
        else:
            status = 200 if self.headers.get("Authorization") == f"Bearer {key}" else 401
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def fake_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeReadiness)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_unhealthy_while_not_ready(fake_server: ThreadingHTTPServer) -> None:
    result = run_healthcheck(int(fake_server.server_address[1]))
    assert result.returncode == 1
    assert "HTTP 503" in result.stderr


def test_sends_the_first_api_key_when_keys_are_configured(
    fake_server: ThreadingHTTPServer,
) -> None:
    fake_server.key = "k1"  # type: ignore[attr-defined]
    port = int(fake_server.server_address[1])
    assert run_healthcheck(port, api_keys="").returncode == 1
    assert run_healthcheck(port, api_keys=" k1 , k2").returncode == 0
