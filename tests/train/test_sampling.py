"""Class-balanced, source-weighted, length-grouped batches."""

from __future__ import annotations

import random

from train.sampling import epoch_batches, sampling_weights


def test_balancing_gives_the_configured_harmful_share() -> None:
    labels = [1] * 100 + [0] * 900
    sources = ["a"] * 1000
    weights = sampling_weights(labels, sources, 0.4, {})
    batches = epoch_batches([10] * 1000, weights, 20000, 16, seed=0)
    drawn = [labels[i] for b in batches for i in b]
    assert abs(sum(drawn) / len(drawn) - 0.4) < 0.02


def test_source_weights_upweight_matching_sources() -> None:
    labels = [0] * 200
    sources = ["alpaca"] * 100 + ["alpaca:alarming-words"] * 100
    weights = sampling_weights(labels, sources, None, {":alarming-words": 4.0})
    batches = epoch_batches([5] * 200, weights, 10000, 10, seed=0)
    drawn = [sources[i] for b in batches for i in b]
    assert 0.75 < drawn.count("alpaca:alarming-words") / len(drawn) < 0.85


def test_batches_are_length_grouped_deterministic_and_shuffled() -> None:
    rng = random.Random(0)
    lengths = [rng.randint(5, 128) for _ in range(3200)]
    weights = [1.0] * len(lengths)
    a = epoch_batches(lengths, weights, 3200, 16, seed=3)
    assert a == epoch_batches(lengths, weights, 3200, 16, seed=3)
    assert a != epoch_batches(lengths, weights, 3200, 16, seed=4)
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in a) / len(a)
    assert spread < 10  # vs ~120 for random batches
    firsts = [max(lengths[i] for i in b) for b in a[:20]]
    assert firsts != sorted(firsts)  # the epoch itself is not ordered by length


def test_unlabelled_rows_get_a_fixed_share_outside_the_class_balancer() -> None:
    labels: list[int | None] = [1] * 100 + [0] * 300 + [None] * 900 + [None] * 100
    sources = ["seed"] * 400 + ["harmaug"] * 900 + ["transfer:chat"] * 100
    weights = sampling_weights(labels, sources, 0.4, {}, unlabelled_share=0.3)
    assert abs(sum(weights) - 1) < 1e-9
    unl = sum(weights[400:])
    assert abs(unl - 0.3) < 1e-9
    assert abs(sum(weights[:100]) / (1 - unl) - 0.4) < 1e-9  # balance among labelled rows only
    # sqrt(900) : sqrt(100) = 3 : 1, whatever the teacher thinks of the rows
    assert abs(sum(weights[400:1300]) / sum(weights[1300:]) - 3.0) < 1e-9


def test_unlabelled_rows_keep_their_natural_share_by_default() -> None:
    labels: list[int | None] = [1] * 10 + [0] * 30 + [None] * 60
    weights = sampling_weights(labels, ["s"] * 100, 0.5, {})
    assert abs(sum(weights[40:]) - 0.6) < 1e-9
    assert abs(sum(weights[:10]) - 0.2) < 1e-9
