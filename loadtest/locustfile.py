"""Locust users for every target of the comparison. Run one class at a time, e.g.

    locust -f loadtest/locustfile.py --headless -u 8 -r 8 -t 30s --csv out/run \
        --host http://127.0.0.1:8000 ModerateUser

Each user sends requests back to back (no think time): a closed loop of `-u` concurrent clients.
Prompts come from `--prompts-file` (written by `python -m loadtest compare`), else from
`--data-dir` (ToxicChat + OAI prompts), else a synthetic mix; `--repeat-share` of the requests
repeat a small hot set so that cache hits can be studied.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any, ClassVar

from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from loadtest.llamaguard import load_categories
from loadtest.prompts import PromptStream, build_prompt_mix, load_prompts
from loadtest.protocols import (
    InfinityClassify,
    LlamaGuardChat,
    LlamaGuardCompletions,
    Moderate,
    ModerateBatch,
    Protocol,
    ProtocolError,
)
from loadtest.runner import FINAL_STATS_SUFFIX

DEFAULT_REQUEST_TIMEOUT_S = 120.0


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    group = parser.add_argument_group("moderation load test")
    group.add_argument("--prompts-file", default="", help="JSON prompt mix from `compare`")
    group.add_argument("--data-dir", default="", help="datasets dir (ToxicChat, OAI prompts)")
    group.add_argument("--repeat-share", type=float, default=0.0, help="share of hot repeats")
    group.add_argument(
        "--first-pass", type=int, default=0, help="start at this pass over the fresh prompts"
    )
    group.add_argument("--batch-size", type=int, default=16, help="items per /moderate/batch")
    group.add_argument("--teacher-model", default="llama-guard", help="`model` for the teacher")
    group.add_argument("--infinity-model", default=".", help="`model` for infinity /classify")
    group.add_argument(
        "--request-timeout", type=float, default=DEFAULT_REQUEST_TIMEOUT_S, help="seconds"
    )


def _options(environment: Environment) -> argparse.Namespace:
    parsed = environment.parsed_options
    defaults = argparse.Namespace(
        prompts_file="",
        data_dir="",
        repeat_share=0.0,
        first_pass=0,
        batch_size=16,
        teacher_model="llama-guard",
        infinity_model=".",
        request_timeout=DEFAULT_REQUEST_TIMEOUT_S,
    )
    if parsed is None:
        return defaults
    return argparse.Namespace(**{**vars(defaults), **vars(parsed)})


_environment: Environment | None = None
_stream: PromptStream | None = None


@events.init.add_listener
def _remember_environment(environment: Environment, **_: Any) -> None:
    global _environment
    _environment = environment


@events.quit.add_listener
def _write_final_stats(**_: Any) -> None:
    """Write `<csv prefix>_final_stats.csv` with the stats as they are at the very end.

    Locust's own `_stats.csv` is rewritten once a second, so it misses up to the last second
    of a run; this file has the same columns (written by Locust's own `StatsCSV`), complete."""
    opts = _environment.parsed_options if _environment is not None else None
    prefix = getattr(opts, "csv_prefix", None)
    if _environment is None or not prefix:
        return
    with open(f"{prefix}{FINAL_STATS_SUFFIX}", "w", newline="", encoding="utf-8") as fh:
        StatsCSV(_environment, PERCENTILES_TO_REPORT).requests_csv(csv.writer(fh))


def prompt_stream(environment: Environment) -> PromptStream:
    """One stream per load-generator process, shared by its users (gevent: one thread)."""
    global _stream
    if _stream is None:
        opts = _options(environment)
        if opts.prompts_file:
            prompts, _ = load_prompts(Path(opts.prompts_file))
        else:
            prompts, _ = build_prompt_mix(Path(opts.data_dir) if opts.data_dir else None)
        _stream = PromptStream(prompts, repeat_share=opts.repeat_share, first_pass=opts.first_pass)
    return _stream


class _ProtocolUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    # Connections are reused (keep-alive) as a gateway's HTTP client would.
    concurrency = 1
    protocol_name: ClassVar[str] = ""

    def __init__(self, environment: Environment) -> None:
        opts = _options(environment)
        self.network_timeout = opts.request_timeout
        self.connection_timeout = opts.request_timeout
        super().__init__(environment)
        self.protocol = self.make_protocol(opts, environment)
        self.prompts = prompt_stream(environment)

    def make_protocol(self, opts: argparse.Namespace, environment: Environment) -> Protocol:
        raise NotImplementedError

    @task
    def moderate(self) -> None:
        protocol = self.protocol
        payload = protocol.payload([next(self.prompts) for _ in range(protocol.items_per_request)])
        with self.client.post(
            protocol.path, json=payload, catch_response=True, name=protocol.path
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}: {(resp.text or '')[:200]}")
                return
            try:
                protocol.check(resp.json())
            except (ValueError, ProtocolError) as exc:
                resp.failure(f"bad answer: {exc}")
            else:
                resp.success()


class ModerateUser(_ProtocolUser):
    """`POST /moderate`, one prompt per request: this service, or the plain baseline."""

    def make_protocol(self, opts: argparse.Namespace, environment: Environment) -> Protocol:
        return Moderate()


class ModerateBatchUser(_ProtocolUser):
    """`POST /moderate/batch` with `--batch-size` prompts per request."""

    def make_protocol(self, opts: argparse.Namespace, environment: Environment) -> Protocol:
        return ModerateBatch(items_per_request=opts.batch_size)


class LlamaGuardChatUser(_ProtocolUser):
    """A Llama Guard 3 endpoint over OpenAI-compatible `/v1/chat/completions`."""

    def make_protocol(self, opts: argparse.Namespace, environment: Environment) -> Protocol:
        categories = load_categories(Path(opts.data_dir) if opts.data_dir else None)
        return LlamaGuardChat(model=opts.teacher_model, categories=categories)


class LlamaGuardCompletionsUser(_ProtocolUser):
    """A Llama Guard 3 endpoint over OpenAI-compatible `/v1/completions` (raw prompt)."""

    def make_protocol(self, opts: argparse.Namespace, environment: Environment) -> Protocol:
        categories = load_categories(Path(opts.data_dir) if opts.data_dir else None)
        return LlamaGuardCompletions(model=opts.teacher_model, categories=categories)


class InfinityUser(_ProtocolUser):
    """infinity-emb's `POST /classify`, one prompt per request."""

    def make_protocol(self, opts: argparse.Namespace, environment: Environment) -> Protocol:
        return InfinityClassify(model=opts.infinity_model)
