"""`python -m loadtest.bench.long_inputs` runs end to end on real data and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loadtest.processes import REPO_ROOT


def test_the_long_input_benchmark_prints_every_policy(
    keyword_artifact: Path, data_dir: Path
) -> None:
    args = ["--artifact", str(keyword_artifact), "--data-dir", str(data_dir)]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtest.bench.long_inputs",
            *args,
            "--limit",
            "8",
            "--words",
            "600",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = run.stdout.splitlines()
    assert any(line.startswith("caught alone: ") for line in lines)
    rows = {
        line.split()[0]: line.split()
        for line in lines
        if line.split()[:1] in (["windows"], ["head_tail"], ["truncate"])
    }
    assert set(rows) == {"windows", "head_tail", "truncate"}
    # Columns end with: windows per text, ms per text, texts with unseen text.
    assert float(rows["windows"][-3]) > 1.0 and rows["windows"][-1] == "0"
    for policy in ("head_tail", "truncate"):
        assert float(rows[policy][-3]) == 1.0 and rows[policy][-1] == "8"
