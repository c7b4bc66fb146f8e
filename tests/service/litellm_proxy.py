"""A real LiteLLM proxy process (from `.venvs/litellm`, installed by `make litellm-proxy`)."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadtest.processes import ServerStartError, free_port, wait_until_ready

REPO_ROOT = Path(__file__).resolve().parents[2]
LITELLM_BIN = Path(
    os.environ.get("LITELLM_BIN", REPO_ROOT / ".venvs" / "litellm" / "bin" / "litellm")
)
# The proxy imports a large stack; on 2 busy cores it has taken up to ~50 s to come up.
STARTUP_TIMEOUT_S = 240.0


@dataclass(frozen=True)
class LiteLLMProxy:
    url: str
    master_key: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@contextmanager
def litellm_proxy(
    config: dict[str, Any], workdir: Path, env: dict[str, str] | None = None
) -> Iterator[LiteLLMProxy]:
    """Run `litellm --config` with `config` (and `env`) on a free loopback port until the block
    exits."""
    if not LITELLM_BIN.is_file():
        pytest.fail(
            f"LiteLLM proxy not found at {LITELLM_BIN}: run `make litellm-proxy` "
            "(`make test` does it) or set LITELLM_BIN"
        )
    config_path = workdir / "litellm.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log_path = workdir / "litellm.log"
    port = free_port()
    master_key = "sk-" + secrets.token_hex(32)
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": master_key,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of the price list at start-up
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "127.0.0.1,localhost",
        **(env or {}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(LITELLM_BIN),
                "--config",
                str(config_path),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--num_workers",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
        )
    proxy = LiteLLMProxy(url=f"http://127.0.0.1:{port}", master_key=master_key, log_path=log_path)
    try:
        try:
            wait_until_ready(
                process,
                f"{proxy.url}/health/readiness",
                name="the LiteLLM proxy",
                timeout_s=STARTUP_TIMEOUT_S,
                log=log_path,
                poll_s=0.5,
            )
        except ServerStartError as exc:
            pytest.fail(str(exc))
        yield proxy
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
