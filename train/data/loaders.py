"""One loader per dataset: read the local copy under the data dir, normalise to `Record`.

Each `DatasetSpec` also names the set's public hub id (`hub_id`), so someone with internet can
fetch the same data; here the data dir (`--data-dir` / $DATA_DIR) holds the copies listed in
its README. Seeds are for training; eval sets are for evaluation only.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from train.data.records import Record

Split = Literal["seed", "eval"]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    split: Split
    relpath: str
    hub_id: str
    license: str
    loader: Callable[[Path], list[Record]]

    def load(self, data_dir: Path) -> list[Record]:
        path = Path(data_dir) / self.relpath
        if not path.exists():
            raise FileNotFoundError(
                f"{self.name}: {path} not found; pass --data-dir or set DATA_DIR "
                f"(public copy: {self.hub_id})"
            )
        return self.loader(path)


def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def load_advbench(path: Path) -> list[Record]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Record(
            prompt=seed["value"].strip(),
            response=None,
            label=1,
            source="advbench",
            category=(seed.get("harm_categories") or [None])[0],
        )
        for seed in doc["seeds"]
    ]


def load_donotanswer(folder: Path) -> list[Record]:
    """Label 1 = "should not be answered" (the set's own meaning); `category` is the risk area
    and `variant` the comma-joined intent codes, which `train.data.donotanswer` maps to policy
    labels."""
    records = []
    for file in sorted(folder.glob("*.jsonl")):
        with file.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    intents = ",".join(row.get("intents") or []) or None
                    prompt = row["prompt"].strip()
                    area = file.stem
                    records.append(Record(prompt, None, 1, "donotanswer", area, variant=intents))
    return records


def load_jailbreakbench(folder: Path) -> list[Record]:
    """Attack prompts with target responses; label = the JailbreakBench judge's `jailbroken`;
    `variant` = the attack method (PAIR, GCG, ...).

    Entries without a prompt or response (attacks that produced nothing) are skipped.
    """
    records = []
    for file in sorted(folder.glob("*/*/*.json")):
        for item in _load_json(file)["jailbreaks"]:
            prompt, response = item.get("prompt"), item.get("response")
            if not prompt or not response:
                continue
            records.append(
                Record(
                    prompt=prompt.strip(),
                    response=response.strip(),
                    label=int(bool(item["jailbroken"])),
                    source="jailbreakbench",
                    category=item.get("category"),
                    variant=file.parent.parent.name,  # the attack method
                )
            )
    return records


def load_jailbreakbench_goals(folder: Path) -> list[Record]:
    """The behaviours (`goal`) behind the attacks: harmful requests, prompt only, deduplicated."""
    goals: dict[str, str | None] = {}
    for file in sorted(folder.glob("*/*/*.json")):
        for item in _load_json(file)["jailbreaks"]:
            goals.setdefault(item["goal"].strip(), item.get("category"))
    return [Record(goal, None, 1, "jailbreakbench-goals", cat) for goal, cat in goals.items()]


def load_toxicchat(path: Path, source: str) -> list[Record]:
    doc = _load_json(path)
    return [
        Record(
            prompt=inst["instance"],
            response=None,
            label=int(inst["annotations"]["toxicity"]["majority_human"]),
            source=source,
            category="jailbreaking"
            if inst["annotations"].get("jailbreaking", {}).get("majority_human") == "1"
            else None,
        )
        for inst in doc["instances"]
    ]


def alpaca_prompt(instruction: str, extra_input: str) -> str:
    return (
        f"{instruction.strip()}\n\n{extra_input.strip()}"
        if extra_input.strip()
        else instruction.strip()
    )


def load_alpaca(path: Path) -> list[Record]:
    """Benign instructions with their outputs as responses (the mix also uses them without)."""
    return [
        Record(
            alpaca_prompt(row["instruction"], row.get("input", "")),
            row["output"].strip() or None,
            0,
            "alpaca",
        )
        for row in _load_json(path)
    ]


def load_alpaca_seed_tasks(path: Path) -> list[Record]:
    records = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            instance = (row.get("instances") or [{}])[0]
            prompt = alpaca_prompt(row["instruction"], instance.get("input", ""))
            records.append(Record(prompt, instance.get("output") or None, 0, "alpaca-seed-tasks"))
    return records


def load_oai_moderation(path: Path) -> list[Record]:
    """Harmful = any category flag is 1 (a missing key means unknown, not 0).

    `category` lists the flags that are 1; `variant` every known flag ("S=1,H=0,...").
    """
    flags = ("S", "H", "V", "HR", "SH", "S3", "H2", "V2")
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                hits = [f for f in flags if row.get(f) == 1]
                known = ",".join(f"{f}={int(row[f])}" for f in flags if row.get(f) in (0, 1))
                records.append(
                    Record(
                        row["prompt"], None, int(bool(hits)), "oai", ",".join(hits) or None, None,
                        known or None,
                    )
                )  # fmt: skip
    return records


def load_harmbench(path: Path) -> list[Record]:
    return [
        Record(
            row["prompt"],
            row["response"],
            int(row["label"] == "unsafe"),
            "harmbench",
            "llama_guard=" + str(row.get("llama_guard")),
        )
        for row in _load_json(path)
    ]


def load_xstest(path: Path) -> list[Record]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            Record(row["prompt"], None, int(row["label"] == "unsafe"), "xstest", row["type"])
            for row in csv.DictReader(fh)
        ]


def load_dices(path: Path) -> list[Record]:
    """DICES: conversation + final response; `majority_human` "Yes" means UNSAFE (see README)."""
    records = []
    for inst in _load_json(path)["instances"]:
        verdict = inst["annotations"]["safety"]["majority_human"]
        if verdict not in ("Yes", "No"):
            continue  # "Unsure" majority: no gold label
        records.append(
            Record(
                inst["instance"]["user_prompt"],
                inst["instance"]["response"] or None,
                int(verdict == "Yes"),
                path.stem,
            )
        )
    return records


SEEDS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "advbench",
            "seed",
            "seeds/advbench/adv_bench.prompt",
            "walledai/AdvBench",
            "MIT",
            load_advbench,
        ),
        DatasetSpec(
            "donotanswer",
            "seed",
            "seeds/donotanswer",
            "LibrAI/do-not-answer",
            "Apache-2.0",
            load_donotanswer,
        ),
        DatasetSpec(
            "jailbreakbench",
            "seed",
            "seeds/jailbreakbench_artifacts/attack-artifacts",
            "JailbreakBench/artifacts (github)",
            "MIT",
            load_jailbreakbench,
        ),
        DatasetSpec(
            "jailbreakbench-goals",
            "seed",
            "seeds/jailbreakbench_artifacts/attack-artifacts",
            "JailbreakBench/JBB-Behaviors",
            "MIT",
            load_jailbreakbench_goals,
        ),
        DatasetSpec(
            "toxicchat-train",
            "seed",
            "seeds/toxicchat/toxic_chat_train.json",
            "lmsys/toxic-chat (toxicchat0124, train)",
            "CC BY-NC 4.0",
            lambda p: load_toxicchat(p, "toxicchat-train"),
        ),
        DatasetSpec(
            "alpaca",
            "seed",
            "seeds/alpaca/alpaca_5000.json",
            "tatsu-lab/alpaca (5,000-row sample)",
            "CC BY-NC 4.0",
            load_alpaca,
        ),
        DatasetSpec(
            "alpaca-seed-tasks",
            "seed",
            "seeds/alpaca/seed_tasks.jsonl",
            "yizhongw/self-instruct seed_tasks",
            "Apache-2.0",
            load_alpaca_seed_tasks,
        ),
    )
}

EVALS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "oai",
            "eval",
            "eval/oai_moderation/samples-1680.jsonl.gz",
            "mmathew23/openai-moderation-api-evaluation",
            "MIT",
            load_oai_moderation,
        ),
        DatasetSpec(
            "toxicchat",
            "eval",
            "eval/toxicchat/toxic_chat_test.json",
            "lmsys/toxic-chat (toxicchat0124, test)",
            "CC BY-NC 4.0",
            lambda p: load_toxicchat(p, "toxicchat-test"),
        ),
        DatasetSpec(
            "harmbench",
            "eval",
            "eval/harmbench_responses/harmbench_eval.json",
            "HarmAug paper's HarmBench classifier set",
            "MIT",
            load_harmbench,
        ),
        DatasetSpec(
            "xstest",
            "eval",
            "eval/xstest/xstest_prompts.csv",
            "natolambert/xstest-v2-copy",
            "CC BY 4.0",
            load_xstest,
        ),
        DatasetSpec(
            "dices990",
            "eval",
            "eval/dices/dices_990.json",
            "google-research-datasets/dices-dataset (990)",
            "CC BY 4.0",
            load_dices,
        ),
        DatasetSpec(
            "dices350",
            "eval",
            "eval/dices/dices_350_expert.json",
            "google-research-datasets/dices-dataset (350 expert)",
            "CC BY 4.0",
            load_dices,
        ),
    )
}


def load_seeds(data_dir: Path) -> dict[str, list[Record]]:
    return {name: spec.load(data_dir) for name, spec in SEEDS.items()}


def load_evals(data_dir: Path, names: list[str] | None = None) -> dict[str, list[Record]]:
    unknown = sorted(set(names or []) - set(EVALS))
    if unknown:
        raise ValueError(f"unknown eval sets {unknown}; known: {sorted(EVALS)}")
    return {name: EVALS[name].load(data_dir) for name in (names or list(EVALS))}
