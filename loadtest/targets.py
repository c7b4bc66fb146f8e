"""The servers under test: how each is started on a free port, checked ready, warmed, stopped.

Each `start_*` returns a running `Server` or raises `TargetError` with a message that says what
failed and where its log is. Peers run from their own virtual environments (`loadtest.peers`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from contract import LABELS, MODEL_FILE
from loadtest.peers import INFINITY, LLAMA_CPP, PeerInstallError, ensure_peer, smollm2_gguf
from loadtest.processes import HOST, ServerStartError, free_port, wait_until_ready
from loadtest.protocols import Protocol, ProtocolError

TEACHER_ALIAS = "llama-guard"


class TargetError(RuntimeError):
    """A target could not be installed, started, reached or warmed up."""


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes] | None = None  # None: an external URL we only connect to
    log: Path | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        # The server runs in its own session: signal its whole group (uvicorn workers etc.).
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def start_process(
    name: str,
    cmd: Sequence[str],
    *,
    port: int,
    ready_path: str,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 180.0,
) -> Server:
    """Start `cmd` and wait until `GET ready_path` answers 200; `TargetError` otherwise."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(
            list(cmd),
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    server = Server(name=name, url=f"http://{HOST}:{port}", process=proc, log=log)
    try:
        wait_until_ready(
            proc, server.url + ready_path, name=name, timeout_s=timeout_s, log=log, poll_s=0.5
        )
    except ServerStartError as exc:
        server.stop()
        raise TargetError(str(exc)) from exc
    return server


def start_service(artifact: Path, *, cache: bool, log: Path) -> Server:
    """This service (`python -m service`) on the artifact, in-process cache on or off."""
    port = free_port()
    env = {"MODERATION_LOG_LEVEL": "warning", "MODERATION_REDIS_URL": ""}
    if not cache:
        env["MODERATION_CACHE_SIZE"] = "0"
    cmd = [sys.executable, "-m", "service", "--host", HOST, "--port", str(port)]
    return start_process(
        f"service (cache {'on' if cache else 'off'})",
        [*cmd, "--artifact", str(artifact)],
        port=port,
        ready_path="/readyz",
        log=log,
        env=env,
    )


def start_baseline(hf_dir: Path, *, log: Path, max_length: int) -> Server:
    """The plain FastAPI + transformers pipeline server, from this environment."""
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise TargetError(
            f"the plain baseline needs {' and '.join(missing)} in this environment: "
            "install the project's `train` extra (`make install`)"
        )
    port = free_port()
    cmd = [sys.executable, "-m", "loadtest.baseline_server", "--model", str(hf_dir)]
    cmd += ["--host", HOST, "--port", str(port), "--max-length", str(max_length)]
    return start_process("plain baseline", cmd, port=port, ready_path="/healthz", log=log)


def start_teacher(*, log: Path, threads: int = 2) -> Server:
    """llama-cpp-python's OpenAI-compatible server with SmolLM2-135M-Instruct (GGUF)."""
    try:
        python = ensure_peer(LLAMA_CPP)
        gguf = smollm2_gguf()
    except PeerInstallError as exc:
        raise TargetError(f"cannot install the teacher endpoint (llama-cpp-python): {exc}") from exc
    port = free_port()
    cmd = [str(python), "-m", "llama_cpp.server", "--model", str(gguf), "--host", HOST]
    cmd += ["--port", str(port), "--model_alias", TEACHER_ALIAS, "--n_ctx", "4096"]
    cmd += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    return start_process("teacher (llama.cpp)", cmd, port=port, ready_path="/v1/models", log=log)


def infinity_model_dir(hf_dir: Path, artifact: Path, out: Path) -> Path:
    """A folder infinity's optimum engine loads: the student's HF config and tokenizer beside
    the artifact's own int8 ONNX graph, so infinity runs exactly the model the service runs.

    The graph is named `model_quantized.onnx`: on CPU infinity picks the file whose name says
    "quantize" (and quantised graphs are what a user would serve on CPU)."""
    out.mkdir(parents=True, exist_ok=True)
    for path in hf_dir.iterdir():
        if path.is_file() and path.suffix in {".json", ".txt", ".model"}:
            shutil.copyfile(path, out / path.name)
    shutil.copyfile(artifact / MODEL_FILE, out / "model_quantized.onnx")
    # infinity serves `/classify` only when config.json names two or more labels (else it
    # takes the model for a reranker); transformers 5 omits the default names, so write them.
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    if len(config.get("id2label") or {}) < 2:
        config["id2label"] = {str(i): name for i, name in enumerate(LABELS)}
        config["label2id"] = {name: i for i, name in enumerate(LABELS)}
        (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return out


def start_infinity(hf_dir: Path, artifact: Path, *, log: Path, work_dir: Path) -> Server:
    """infinity-emb's server with the optimum (ONNX Runtime) engine on the same student."""
    try:
        ensure_peer(INFINITY)
    except PeerInstallError as exc:
        raise TargetError(f"cannot install infinity-emb: {exc}") from exc
    model_dir = infinity_model_dir(hf_dir, artifact, work_dir / "model")
    port = free_port()
    # infinity fails on an absolute --model-id path: it is started from inside the folder.
    cmd = [str(INFINITY.path / "bin" / "infinity_emb"), "v2", "--model-id", "."]
    cmd += ["--engine", "optimum", "--device", "cpu", "--host", HOST, "--port", str(port)]
    cmd += ["--no-model-warmup"]
    env = {
        "DO_NOT_TRACK": "1",
        "INFINITY_ANONYMOUS_USAGE_STATS": "0",
        "HF_HUB_OFFLINE": "1",
        # infinity caches its optimised graph under the hub cache by model id ("." here):
        # a private cache per run keeps another model's graph from being picked up.
        "HF_HOME": str(work_dir / "hf-home"),
    }
    return start_process(
        "infinity-emb", cmd, port=port, ready_path="/health", log=log, env=env, cwd=model_dir
    )


def warm_up(
    server: Server,
    protocol: Protocol,
    prompts: Sequence[str],
    *,
    requests: int,
    timeout_s: float = 120.0,
) -> list[Any]:
    """Send `requests` requests one after another; return the answers' JSON bodies."""
    bodies = []
    with httpx.Client(base_url=server.url, timeout=timeout_s) as client:
        for i in range(requests):
            # Marked so that no warm-up text is ever a cache hit for the measured load.
            batch = [
                f"warm-up {i}.{j}: {prompts[(i * protocol.items_per_request + j) % len(prompts)]}"
                for j in range(protocol.items_per_request)
            ]
            try:
                resp = client.post(protocol.path, json=protocol.payload(batch))
            except httpx.HTTPError as exc:
                raise TargetError(f"{server.name}: warm-up request failed: {exc!r}") from exc
            if resp.status_code != 200:
                raise TargetError(
                    f"{server.name}: warm-up got HTTP {resp.status_code}: {resp.text[:300]}"
                )
            try:
                body = resp.json()
                protocol.check(body)
            except (ValueError, ProtocolError) as exc:
                raise TargetError(f"{server.name}: warm-up answer is wrong: {exc}") from exc
            bodies.append(body)
    return bodies
