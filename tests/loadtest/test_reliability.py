"""The short reliability suite (`python -m loadtest.reliability --short`) as a CI test.

Real server processes on loopback with the tiny artifact; the suite prints its figures and this
test checks only the hard properties: statuses, reply sizes, nothing lost, exit within the bound.
"""

from __future__ import annotations

from pathlib import Path

from loadtest.reliability import run


def test_the_short_reliability_suite(tiny_artifact: Path, tmp_path: Path) -> None:
    results = run(tiny_artifact, short=True, workdir=tmp_path)

    abuse = results["abuse"]
    assert set(abuse["deep_nesting_statuses"].values()) == {400}
    huge = abuse["huge_batch"]
    assert 400 <= huge["status"] < 500 and huge["reply_bytes"] < 64 * 1024
    assert all(status < 500 for status in abuse["fuzz_statuses"])
    gone = abuse["disconnects"]
    assert gone["counted_499"] >= 100  # every client that left mid-body
    assert sum(gone["ended"].values()) == gone["clients"]  # none still running, none lost
    # (How many long texts were still scored after their client left is printed: it depends on
    # how fast the tiny model is, so it is a figure, not a check.)
    assert set(gone["ended"]) <= {"200", "429", "499"} and gone["server_errors"] == 0
    assert abuse["big_headers"] in ("HTTP/1.1 431", "reset")
    assert abuse["slowloris"]["still_open"] == 0
    assert abuse["server_errors"] == 0

    fairness = results["fairness"]
    assert set(fairness["beside_long"]["long_statuses"]) == {200}
    assert set(fairness["beside_long"]["short_statuses"]) == {200}
    for path in ("/moderate/batch", "/v1/moderations", "/beta/litellm_basic_guardrail_api"):
        beside = fairness[f"beside_batch {path}"]
        assert set(beside["batch_statuses"]) == {413}  # over the window budget, refused
        assert beside["per_s"] > 0  # and the short clients were served meanwhile

    overload = results["overload"]
    assert set(overload["statuses"]) == {200, 429}
    assert overload["429_with_retry_after"] == 1.0

    late = results["deadline"]["128 clients honouring Retry-After (with jitter)"]
    assert late["goodput_per_s"] > 0
    assert set(late["statuses"]) <= {200, 429, 503}

    redis = results["redis"]
    assert all(phase["failed"] == 0 for name, phase in redis.items() if name != "cache")

    sigterm = results["sigterm"]
    assert sigterm["exit_code"] == 0
    assert sigterm["first_503_s"] < sigterm["listener_closed_s"]
    assert sigterm["lost"] == 0
    assert sigterm["exit_s"] < 5.0 + 2.0  # the 5 s bound, plus the app's own shutdown
