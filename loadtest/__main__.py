"""`python -m loadtest {compare,report,install-peers}` (see loadtest/README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _levels(text: str) -> list[int]:
    try:
        levels = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"levels must be integers like 1,8,32: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("levels must be positive integers")
    return levels


def build_parser() -> argparse.ArgumentParser:
    from loadtest.compare import ALL_TARGETS

    parser = argparse.ArgumentParser(prog="python -m loadtest")
    sub = parser.add_subparsers(dest="command", required=True)

    cmp = sub.add_parser("compare", help="load every target in turn and write a report")
    cmp.add_argument("--full", action="store_true", help="the full comparison (default: short)")
    cmp.add_argument("--levels", type=_levels, help="concurrency levels, e.g. 1,8,32,128")
    cmp.add_argument("--duration", type=float, help="seconds per level")
    cmp.add_argument(
        "--targets", nargs="+", choices=ALL_TARGETS, help="targets to measure (default: profile's)"
    )
    cmp.add_argument("--artifact", help="student artifact dir (default: model_artifacts/student)")
    cmp.add_argument("--student-hf", help="the student's PyTorch checkpoint (baseline, infinity)")
    cmp.add_argument(
        "--standin", action="store_true", help="use an untrained MiniLM of the student's size"
    )
    cmp.add_argument("--data-dir", help="datasets dir for the prompt mix (else synthetic)")
    cmp.add_argument("--prompts", type=int, default=2000, help="prompts in the mix")
    cmp.add_argument("--repeat-share", type=float, default=0.2, help="share of hot repeats")
    cmp.add_argument("--batch-size", type=int, default=16, help="items per /moderate/batch")
    cmp.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="TARGET=URL",
        help="connect to a running target instead of starting it (repeatable)",
    )
    cmp.add_argument("--teacher-api", choices=("chat", "completions"), default="chat")
    cmp.add_argument("--teacher-model", help="`model` field for the teacher endpoint")
    cmp.add_argument("--results", help="work dir for CSVs and logs (default: loadtest/results/)")
    cmp.add_argument("--out", help="report dir (default: loadtest/reports/ with --full)")
    cmp.add_argument("--resume", action="store_true", help="skip runs already in --results")

    rep = sub.add_parser("report", help="rewrite a report from a results dir's runs.json")
    rep.add_argument("results", type=Path)
    rep.add_argument("--out", type=Path, help="report dir (default: the results dir)")
    rep.add_argument(
        "--note",
        action="append",
        default=[],
        help="add a note to runs.json and the report, e.g. why a peer wins somewhere",
    )

    peers = sub.add_parser("install-peers", help="create the peers' venvs under .venvs/")
    peers.add_argument("names", nargs="*", help="llamacpp, infinity (default: both)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "compare":
        from loadtest.compare import compare

        args.argv = argv
        return compare(args)
    if args.command == "report":
        from loadtest.compare import add_notes, write_report_from

        add_notes(args.results / "runs.json", args.note)
        print(write_report_from(args.results / "runs.json", args.out or args.results))
        return 0
    from loadtest import peers

    return peers.main(args.names)


if __name__ == "__main__":
    raise SystemExit(main())
