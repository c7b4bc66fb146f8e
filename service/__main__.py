"""`python -m service [--host H] [--port P] [--artifact DIR]`; defaults come from MODERATION_*."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Literal, get_args, get_origin

from service.config import Settings
from service.logs import configure_logging


def _settings_help() -> str:
    """Every `MODERATION_*` variable and its default, for `--help`."""
    lines = ["settings (environment variables; meanings in service/README.md):"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, list):
            default = ",".join(default) or "unset"
        if isinstance(default, dict):
            default = ",".join(f"{k}={v}" for k, v in default.items()) or "unset"
        choices = get_args(field.annotation) if get_origin(field.annotation) is Literal else ()
        line = f"  MODERATION_{name.upper()}={'unset' if default is None else default}"
        if choices:
            line += f"  ({' | '.join(str(c) for c in choices)})"
        if field.description:
            line += f"  {field.description}"
        lines.append(line)
    return "\n".join(lines)


def _parse(settings: Settings, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m service",
        description=__doc__,
        epilog=_settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=settings.host, help="MODERATION_HOST")
    parser.add_argument("--port", type=int, default=settings.port, help="MODERATION_PORT")
    parser.add_argument(
        "--artifact", type=Path, default=settings.artifact_dir, help="MODERATION_ARTIFACT_DIR"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    args = _parse(settings, argv)
    settings = settings.model_copy(
        update={"host": args.host, "port": args.port, "artifact_dir": args.artifact}
    )
    configure_logging(settings.log_level, settings.log_format)
    if not (settings.artifact_dir / "manifest.json").is_file():
        print(
            f"No model artifact at {settings.artifact_dir}/ (no manifest.json).\n"
            "Build the student first with `make artifact` (the training pipeline, see "
            "train/README.md),\n"
            "or point --artifact / MODERATION_ARTIFACT_DIR at an artifact folder.",
            file=sys.stderr,
        )
        return 2

    # The tokenizer's own thread pool would compete with ONNX Runtime for the same cores.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from contract import ArtifactError, load_artifact
    from service import tracing
    from service.app import category_policy, create_app
    from service.category_policy import CategoryPolicyError
    from service.server import serve

    try:
        artifact = load_artifact(settings.artifact_dir)
    except ArtifactError as exc:
        print(f"Cannot serve {settings.artifact_dir}: {exc}", file=sys.stderr)
        return 2
    try:
        category_policy(settings, artifact.manifest)
    except CategoryPolicyError as exc:
        print(f"Cannot serve {settings.artifact_dir}: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings)
    except tracing.TracingUnavailableError as exc:
        print(f"Cannot serve: {exc}", file=sys.stderr)
        return 2
    serve(app, settings)
    tracing.shutdown()  # flushes spans still buffered
    return 0


if __name__ == "__main__":
    sys.exit(main())
