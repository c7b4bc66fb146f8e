"""`python -m loadtest compare`: the same Locust profile against every target, then a report.

For each target in turn: start it (or connect to a given URL), warm it up, run each concurrency
level for a fixed time while sampling the target's CPU and memory, stop it. Finished runs are
saved to `runs.json` after each level, so `--resume` skips them after an interruption. Finally
`report.md` + PNG charts are written (see `loadtest.report`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from tqdm import tqdm

from contract import TOKENIZER_FILE, load_artifact, prepare_tokenizer
from loadtest.costs import LLAMA_GUARD_3_8B, SMOLLM2_135M, cost_table, encoder_from_hf
from loadtest.llamaguard import load_categories
from loadtest.prompts import build_prompt_mix, cap_tokens, save_prompts
from loadtest.protocols import (
    InfinityClassify,
    LlamaGuardChat,
    LlamaGuardCompletions,
    Moderate,
    ModerateBatch,
    Protocol,
)
from loadtest.report import write_report
from loadtest.runner import RunRecord, RunSpec, load_records, run_locust, save_records
from loadtest.standin import build_standin
from loadtest.targets import (
    TEACHER_ALIAS,
    Server,
    TargetError,
    start_baseline,
    start_infinity,
    start_service,
    start_teacher,
    warm_up,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "loadtest" / "results"
REPORTS_DIR = REPO_ROOT / "loadtest" / "reports"
DEFAULT_ARTIFACT = REPO_ROOT / "model_artifacts" / "student"
# Where `make artifact` leaves the trained student's PyTorch checkpoint.
DEFAULT_STUDENT_HF = REPO_ROOT / "runs" / "reference" / "student" / "best"
# infinity-emb hangs on inputs over 512 tokens: prompts are capped for every target alike.
INFINITY_MAX_TOKENS = 512


@dataclass(frozen=True)
class Profile:
    name: str
    levels: tuple[int, ...]
    duration_s: float
    targets: tuple[str, ...]


ALL_TARGETS = ("service", "service-nocache", "service-batch", "baseline", "infinity", "teacher")
SHORT = Profile(
    "short", (1, 16), 8.0, ("service", "service-nocache", "baseline", "infinity", "teacher")
)
FULL = Profile("full", (1, 8, 32, 128), 40.0, ALL_TARGETS)


@dataclass
class Student:
    artifact: Path
    hf_dir: Path | None
    description: str
    max_length: int


@dataclass(frozen=True)
class TargetPlan:
    key: str
    user_class: str
    protocol: Protocol
    warmup_requests: int
    start: Callable[[], Server]
    locust_options: dict[str, str] = field(default_factory=dict)


def _git_commit() -> str:
    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return out.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def busy_processes(min_percent: float = 20.0) -> str:
    """Other processes using CPU right now (sampled over one second)."""
    me = os.getpid()
    procs = [p for p in psutil.process_iter(["name", "cmdline"]) if p.pid != me]
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.cpu_percent(None)
    time.sleep(1.0)
    busy = []
    for p in procs:
        try:
            pct = p.cpu_percent(None)
        except psutil.Error:
            continue
        if pct >= min_percent:
            cmd = " ".join(p.info.get("cmdline") or [p.info.get("name") or "?"])[:60]
            busy.append(f"`{cmd}` {pct:.0f}%")
    return ", ".join(busy) or "none"


def machine_meta() -> dict[str, str]:
    mem = psutil.virtual_memory().total / 2**30
    return {
        "machine": f"{_cpu_model()}, {os.cpu_count()} logical CPUs, {mem:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "other processes using CPU at start": busy_processes(),
    }


def resolve_student(args: argparse.Namespace) -> Student:
    hf_dir: Path | None
    if args.standin:
        hf_dir, artifact = build_standin(RESULTS_DIR / "standin")
    else:
        artifact = Path(args.artifact) if args.artifact else DEFAULT_ARTIFACT
        if not (artifact / "manifest.json").is_file():
            raise SystemExit(
                f"no student artifact at {artifact}: train one with `make artifact`, pass "
                "--artifact DIR, or use --standin (an untrained MiniLM of the same size)"
            )
        hf = Path(args.student_hf) if args.student_hf else DEFAULT_STUDENT_HF
        hf_dir = hf if (hf / "config.json").is_file() else None
    manifest = load_artifact(artifact).manifest
    description = f"{manifest.model_id} ({manifest.base_model}; {manifest.quantization}; "
    description += f"model.onnx sha256 {manifest.files.get('model.onnx', '?')[:12]}) at {artifact}"
    description += f"; PyTorch checkpoint {hf_dir}" if hf_dir else ""
    return Student(artifact, hf_dir, description, manifest.max_length)


def build_plans(
    args: argparse.Namespace, student: Student, work_dir: Path, data_dir: Path | None
) -> list[TargetPlan]:
    urls = dict(u.split("=", 1) for u in args.url)
    logs = work_dir / "logs"

    def external(key: str) -> Callable[[], Server] | None:
        return (lambda: Server(name=key, url=urls[key].rstrip("/"))) if key in urls else None

    def need_hf(name: str) -> Path:
        if student.hf_dir is None:
            raise TargetError(
                f"{name} serves the student's PyTorch checkpoint: pass --student-hf DIR "
                f"(not found at {DEFAULT_STUDENT_HF})"
            )
        return student.hf_dir

    categories = load_categories(data_dir)
    teacher_cls = LlamaGuardChat if args.teacher_api == "chat" else LlamaGuardCompletions
    teacher_model = args.teacher_model or TEACHER_ALIAS
    plans = {
        "service": TargetPlan(
            "service",
            "ModerateUser",
            Moderate(),
            200,
            external("service")
            or (lambda: start_service(student.artifact, cache=True, log=logs / "service.log")),
        ),
        "service-nocache": TargetPlan(
            "service-nocache",
            "ModerateUser",
            Moderate(),
            200,
            external("service-nocache")
            or (
                lambda: start_service(
                    student.artifact, cache=False, log=logs / "service-nocache.log"
                )
            ),
        ),
        "service-batch": TargetPlan(
            "service-batch",
            "ModerateBatchUser",
            ModerateBatch(items_per_request=args.batch_size),
            20,
            external("service-batch")
            or (
                lambda: start_service(student.artifact, cache=False, log=logs / "service-batch.log")
            ),
            {"batch-size": str(args.batch_size)},
        ),
        "baseline": TargetPlan(
            "baseline",
            "ModerateUser",
            Moderate(),
            50,
            external("baseline")
            or (
                lambda: start_baseline(
                    need_hf("the plain baseline"),
                    log=logs / "baseline.log",
                    max_length=student.max_length,
                )
            ),
        ),
        "infinity": TargetPlan(
            "infinity",
            "InfinityUser",
            InfinityClassify(),
            50,
            external("infinity")
            or (
                lambda: start_infinity(
                    need_hf("infinity-emb"),
                    student.artifact,
                    log=logs / "infinity.log",
                    work_dir=work_dir / "infinity",
                )
            ),
        ),
        "teacher": TargetPlan(
            "teacher",
            "LlamaGuardChatUser" if args.teacher_api == "chat" else "LlamaGuardCompletionsUser",
            teacher_cls(model=teacher_model, categories=categories),
            3,
            external("teacher") or (lambda: start_teacher(log=logs / "teacher.log")),
            {"teacher-model": teacher_model},
        ),
    }
    return [plans[key] for key in args.targets]


TARGET_SETUP = (
    "service: `python -m service`, default settings (length-aware batching, ONNX Runtime on all "
    "cores), `MODERATION_CACHE_SIZE=0` for cache off; teacher: llama-cpp-python 0.3.36 "
    "`llama_cpp.server`, 2 threads, n_ctx 4096, chat completions, greedy, max 8 tokens, 20 top "
    "logprobs; plain baseline: FastAPI + transformers pipeline (PyTorch, 2 threads), one request "
    "at a time; infinity-emb 0.0.78: optimum engine on CPU, the artifact's int8 graph, default "
    "batch size 32"
)


def log_findings(key: str, server: Server) -> list[str]:
    """Facts from a target's log worth a note in the report."""
    text = server.log.read_text(errors="replace") if server.log and server.log.is_file() else ""
    findings = []
    if key == "infinity" and "Optimization failed" in text:
        findings.append(
            "infinity-emb could not apply its ONNX graph optimisation with the optimum version "
            "it installs (`Optimization failed ... optimize_with_onnxruntime_only`) and served "
            "the int8 graph unoptimised, as a user installing it would get."
        )
    hits = [int(m) for m in re.findall(r"(\d+) prefix-match hit", text)]
    if key == "teacher" and hits:
        findings.append(
            f"llama-cpp-python reused the KV cache of the prompt prefix shared with the previous "
            f"request (the fixed Llama Guard instructions; median {statistics.median(hits):.0f} "
            "tokens), so the teacher prefilled fewer tokens than the cost table's nominal count."
        )
    return findings


def teacher_usage(bodies: Sequence[Any]) -> tuple[float, float]:
    """Mean prompt and completion tokens reported by an OpenAI-compatible server."""
    usage = [b.get("usage") or {} for b in bodies if isinstance(b, dict)]
    prompt = [float(u["prompt_tokens"]) for u in usage if "prompt_tokens" in u]
    completion = [float(u["completion_tokens"]) for u in usage if "completion_tokens" in u]
    return (
        statistics.fmean(prompt) if prompt else float("nan"),
        statistics.fmean(completion) if completion else float("nan"),
    )


def student_tokens(prompts: Sequence[str], tokenizer_file: Path, max_length: int) -> float:
    """Mean tokens per prompt as the student sees them (special tokens in, no padding)."""
    from tokenizers import Tokenizer

    tokenizer = prepare_tokenizer(Tokenizer.from_file(str(tokenizer_file)), max_length)
    return statistics.fmean(len(e.ids) for e in tokenizer.encode_batch(list(prompts)))


def _done(records: Sequence[RunRecord]) -> set[tuple[str, int]]:
    return {(r.spec.target, r.spec.users) for r in records}


def measure_target(
    plan: TargetPlan,
    levels: Sequence[int],
    duration_s: float,
    csv_dir: Path,
    locust_options: dict[str, str],
    prompts: Sequence[str],
    finished: Callable[[RunRecord], None],
    notes: list[str],
) -> list[Any]:
    """Start one target, warm it, run each level, stop it; return the warm-up answers.

    Raises `TargetError` when the target cannot be started, warmed or loaded; runs finished
    before that were already handed to `finished`. Facts from the target's log go to `notes`."""
    server = plan.start()
    try:
        bodies = warm_up(server, plan.protocol, prompts, requests=plan.warmup_requests)
        for index, users in enumerate(levels):
            spec = RunSpec(
                target=plan.key,
                user_class=plan.user_class,
                host=server.url,
                users=users,
                duration_s=duration_s,
                csv_prefix=csv_dir / f"{plan.key}-u{users}",
                items_per_request=plan.protocol.items_per_request,
                # Each level walks its own passes of the fresh prompts: the server process (and
                # its cache) lives through all levels.
                locust_options={**locust_options, "first-pass": str(100 * (index + 1))},
            )
            try:
                record = run_locust(spec, target_pid=server.pid)
            except RuntimeError as exc:
                raise TargetError(str(exc)) from exc
            s = record.stats
            tqdm.write(
                f"[loadtest] {plan.key:16s} users={users:4d} req/s={s.requests_per_s:9.2f} "
                f"p50={s.p50_ms:8.0f} ms p99={s.p99_ms:8.0f} ms failures={s.failures}/{s.requests}"
            )
            finished(record)
        return bodies
    finally:
        server.stop()
        notes.extend(n for n in log_findings(plan.key, server) if n not in notes)


def compare(args: argparse.Namespace) -> int:
    profile = FULL if args.full else SHORT
    levels = tuple(args.levels) if args.levels else profile.levels
    duration = args.duration or profile.duration_s
    args.targets = args.targets or list(profile.targets)
    unknown = sorted(set(args.targets) - set(ALL_TARGETS))
    if unknown:
        raise SystemExit(f"unknown targets {unknown}; choose from {', '.join(ALL_TARGETS)}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    work_dir = Path(args.results) if args.results else RESULTS_DIR / f"{profile.name}-{stamp}"
    out_dir = Path(args.out) if args.out else (REPORTS_DIR if args.full else work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    runs_file = work_dir / "runs.json"

    records: list[RunRecord] = []
    sections: dict[str, Any] = {}
    if args.resume and runs_file.is_file():
        records, sections = load_records(runs_file)
        print(f"[loadtest] resuming: {len(records)} runs already in {runs_file}")

    data_dir = Path(args.data_dir) if args.data_dir else None
    student = resolve_student(args)
    prompts, source = build_prompt_mix(data_dir, n=args.prompts)
    # Room for [CLS], [SEP] and the pass-number suffix of `PromptStream` / the warm-up mark.
    cap = min(student.max_length, INFINITY_MAX_TOKENS) - 16
    prompts = cap_tokens(prompts, student.artifact / TOKENIZER_FILE, cap)
    prompts_file = work_dir / "prompts.json"
    save_prompts(prompts_file, prompts, source)

    meta: dict[str, Any] = sections.get("meta") or {
        "title": f"Load test ({profile.name} profile): moderation service vs teacher and peers",
        "date (UTC)": stamp,
        "commit": _git_commit(),
        **machine_meta(),
        "student": student.description,
        "prompts": f"{len(prompts)} {source}, each capped at {cap} student tokens; "
        f"{args.repeat_share:.0%} of requests repeat one of 32 hot prompts",
        "profile": f"{duration:.0f} s per level at {', '.join(map(str, levels))} users "
        "(spawned at once), after a warm-up; load generator: Locust (FastHttpUser) on the "
        "same machine",
        "targets": TARGET_SETUP,
        "command": "python -m loadtest " + " ".join(args.argv),
    }
    notes: list[str] = list(sections.get("notes") or [])
    costs: list[dict[str, Any]] = list(sections.get("costs") or [])
    teacher_tokens: tuple[float, float] | None = None

    def save() -> None:
        save_records(runs_file, records, meta=meta, costs=costs, notes=notes)

    done = _done(records)
    plans = build_plans(args, student, work_dir, data_dir)
    total = sum(1 for p in plans for lvl in levels if (p.key, lvl) not in done)
    failed: list[str] = []
    common = {"prompts-file": str(prompts_file), "repeat-share": str(args.repeat_share)}
    if data_dir is not None:
        common["data-dir"] = str(data_dir)
    with tqdm(total=total, desc="load runs", unit="run") as bar:
        for plan in plans:
            todo = [lvl for lvl in levels if (plan.key, lvl) not in done]
            if not todo:
                continue
            bar.set_postfix_str(f"starting {plan.key}")

            def finished(record: RunRecord) -> None:
                records.append(record)
                save()
                bar.update(1)

            try:
                bodies = measure_target(
                    plan, todo, duration, work_dir / "csv", {**common, **plan.locust_options},
                    prompts, finished, notes,
                )  # fmt: skip
            except TargetError as exc:
                tqdm.write(f"[loadtest] {plan.key}: FAILED: {exc}")
                failed.append(plan.key)
                notes.append(f"{plan.key} was not measured in full: {str(exc).splitlines()[0]}")
                bar.update(sum(1 for lvl in todo if (plan.key, lvl) not in _done(records)))
                continue
            if plan.key == "teacher":
                teacher_tokens = teacher_usage(bodies)

    if teacher_tokens is not None or not costs:
        prompt_tokens, generated = teacher_tokens or (float("nan"), float("nan"))
        encoder = (
            encoder_from_hf(student.hf_dir, f"student: {student.description.split(' (')[0]}")
            if student.hf_dir is not None
            else None
        )
        rows = cost_table(
            encoder,
            student_tokens(prompts, student.artifact / TOKENIZER_FILE, student.max_length),
            prompt_tokens,
            generated,
        )
        costs = [asdict(r) for r in rows]
    meta["load average at end (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    save()
    report = write_report_from(runs_file, out_dir)
    print(f"[loadtest] report: {report}")
    if failed:
        print(f"[loadtest] targets not (fully) measured: {', '.join(failed)}")
        return 1
    return 0


def add_notes(runs_file: Path, notes: Sequence[str]) -> None:
    """Append notes (an engineer's reading of the numbers) to a `runs.json`."""
    if not notes:
        return
    records, sections = load_records(runs_file)
    sections["notes"] = [*(sections.get("notes") or []), *notes]
    save_records(runs_file, records, **sections)


def write_report_from(runs_file: Path, out_dir: Path) -> Path:
    """Rewrite the report from a `runs.json` (no server is contacted)."""
    from loadtest.costs import CostRow

    records, sections = load_records(runs_file)
    costs = [CostRow(**c) for c in sections.get("costs") or []]
    by_params = {c.params: c for c in costs}
    stand_in, real = by_params.get(SMOLLM2_135M.params), by_params.get(LLAMA_GUARD_3_8B.params)
    times = (
        f"{real.gflops_per_prompt / stand_in.gflops_per_prompt:.0f}x"
        if stand_in and real and stand_in.gflops_per_prompt > 0
        else "many times"
    )
    teacher_note = (
        "The teacher here is SmolLM2-135M-Instruct under the Llama Guard 3 prompt on llama.cpp: "
        "it stands in for the protocol and the cost structure of an LLM guard endpoint (a prompt "
        "of a few hundred tokens prefilled, then a few tokens generated), not for Llama Guard's "
        f"quality. A real Llama-Guard-3-8B needs {times} the FLOPs per prompt of this stand-in "
        "(cost table), so on the same CPU it would be slower still; any OpenAI-compatible "
        "endpoint can be measured instead with `--url teacher=URL --teacher-model NAME`."
    )
    return write_report(
        records,
        out_dir,
        meta=dict(sections.get("meta") or {}),
        costs=costs,
        notes=[*list(sections.get("notes") or []), teacher_note, *STANDING_NOTES],
    )


STANDING_NOTES = [
    "llama.cpp's server scores one request at a time: more users only lengthen its queue, so its "
    "latency grows linearly with users while its throughput stays flat. At high user counts "
    "its latencies are those of the requests that finished within the run (the rest were "
    "still queued when the run ended), so they understate the real wait.",
    "Client and servers share the machine's 2 cores: the load generator's CPU is listed, and "
    "it takes CPU from the fast targets (the service, infinity) more than from the slow ones.",
]
