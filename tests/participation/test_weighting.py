"""Raking checked against samplics (an established implementation), and against a known truth."""

from __future__ import annotations

import numpy as np
import pytest

from participation.weighting import (
    TRIM_HIGH,
    TRIM_LOW,
    Margins,
    margin_of_error,
    rake,
    weigh_cells,
)

samplics_weighting = pytest.importorskip("samplics.weighting", reason="samplics is in the dev extra")

HOODS = ["centre", "gare", "bourg", "hameaux"]
AGES = ["15-29", "30-44", "45-59", "60-74", "75-plus"]


def reference_rake(hood: np.ndarray, age: np.ndarray, hood_targets: np.ndarray, age_targets: np.ndarray) -> np.ndarray:
    """samplics' raking to convergence, on the same participants."""
    return np.asarray(
        samplics_weighting.SampleWeight().rake(
            samp_weight=np.ones(len(hood)),
            margins={"hood": np.array(HOODS)[hood], "age": np.array(AGES)[age]},
            control={
                "hood": dict(zip(HOODS, hood_targets.tolist(), strict=True)),
                "age": dict(zip(AGES, age_targets.tolist(), strict=True)),
            },
            tol=1e-13,
            ctrl_tol=1e-13,
            max_iter=5000,
        ),
        dtype=float,
    )


def biased_sample(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Participants whose neighbourhood and age are linked (the young live in the centre)."""
    rng = np.random.default_rng(seed)
    hood = rng.choice(4, size=size, p=[0.55, 0.25, 0.15, 0.05])
    age = np.minimum(4, rng.poisson(0.6 + hood * 0.7)).astype(int)
    return hood, age


def test_raking_equals_samplics_when_it_takes_several_sweeps() -> None:
    hood, age = biased_sample(seed=7, size=600)
    hood_targets = np.array([4210, 3120, 2480, 1190], dtype=float)
    age_targets = np.array([2130, 2450, 2780, 2350, 1290], dtype=float)  # 11,000 like the neighbourhoods
    ours = rake([hood, age], [hood_targets, age_targets], trim=None)
    theirs = reference_rake(hood, age, hood_targets, age_targets)
    # Linked margins: one sweep is not enough (fitting the ages undoes the neighbourhoods).
    one_sweep = np.ones(len(hood))
    for group, target in ((hood, hood_targets), (age, age_targets)):
        one_sweep *= (target / np.bincount(group, weights=one_sweep, minlength=len(target)))[group]
    assert np.max(np.abs(np.bincount(hood, weights=one_sweep) - hood_targets)) > 1
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.bincount(hood, weights=ours), hood_targets, rtol=1e-9)
    np.testing.assert_allclose(np.bincount(age, weights=ours), age_targets, rtol=1e-9)


def test_trimmed_raking_equals_samplics_raking_then_the_same_clipping() -> None:
    hood, age = biased_sample(seed=11, size=400)
    hood_targets = np.array([4210, 3120, 2480, 1190], dtype=float)
    age_targets = np.array([2130, 2450, 2780, 2350, 1290], dtype=float)  # 11,000 like the neighbourhoods
    untrimmed = rake([hood, age], [hood_targets, age_targets], trim=None)
    assert untrimmed.max() > TRIM_HIGH * untrimmed.mean()  # the case needs trimming
    ours = rake([hood, age], [hood_targets, age_targets])

    # The same procedure with samplics doing the raking: rake, clip to the bound, until stable.
    def clip(w: np.ndarray) -> np.ndarray:
        """Clip to the bound around the mean, until the mean (which clipping moves) is stable."""
        for _ in range(1000):
            clipped = np.clip(w, TRIM_LOW * w.mean(), TRIM_HIGH * w.mean())
            if np.allclose(clipped, w, rtol=1e-10, atol=0):
                break
            w = clipped
        return clipped

    theirs = reference_rake(hood, age, hood_targets, age_targets)
    for _ in range(200):
        clipped = clip(theirs)
        if np.allclose(clipped, theirs, rtol=1e-10, atol=0):
            break
        # samplics rakes from given starting weights: start it from the clipped ones.
        theirs = np.asarray(
            samplics_weighting.SampleWeight().rake(
                samp_weight=clipped,
                margins={"hood": np.array(HOODS)[hood], "age": np.array(AGES)[age]},
                control={
                    "hood": dict(zip(HOODS, hood_targets.tolist(), strict=True)),
                    "age": dict(zip(AGES, age_targets.tolist(), strict=True)),
                },
                tol=1e-13,
                ctrl_tol=1e-13,
                max_iter=5000,
            ),
            dtype=float,
        )
    theirs = clip(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert ours.max() <= TRIM_HIGH * ours.mean() * (1 + 1e-9)
    assert ours.min() >= TRIM_LOW * ours.mean() * (1 - 1e-9)


def test_weighted_estimates_are_closer_to_the_truth_than_raw_ones() -> None:
    """A known population; the young and the centre answer more: weighting corrects the estimate."""
    rng = np.random.default_rng(2026)
    size = 9000
    hood = rng.choice(4, size=size, p=[0.36, 0.27, 0.24, 0.13])
    age = rng.choice(5, size=size, p=[0.19, 0.22, 0.25, 0.21, 0.13])
    # The opinion depends on age and neighbourhood: older people and the hamlets are against.
    favour = rng.random(size) < 0.75 - 0.12 * age - 0.08 * hood
    truth = favour.mean()
    answer_probability = 0.30 - 0.05 * age - 0.05 * hood + 0.02
    answered = rng.random(size) < np.clip(answer_probability, 0.01, 1)
    raw = favour[answered].mean()
    margins = Margins(
        source="test",
        neighbourhoods={h: int((hood == i).sum()) for i, h in enumerate(HOODS)},
        age_brackets={a: int((age == i).sum()) for i, a in enumerate(AGES)},
    )
    cells: dict[tuple[str | None, str | None], int] = {}
    for h, a in zip(hood[answered], age[answered], strict=True):
        cells[(HOODS[h], AGES[a])] = cells.get((HOODS[h], AGES[a]), 0) + 1
    weights = weigh_cells(margins, cells)
    w = np.array([weights.weights[(HOODS[h], AGES[a])] for h, a in zip(hood[answered], age[answered], strict=True)])
    weighted = float((w * favour[answered]).sum() / w.sum())
    assert abs(weighted - truth) < abs(raw - truth) / 3
    assert weights.design_effect is not None and weights.design_effect > 1
    assert weights.n_effective < weights.weighted


def test_margin_of_error() -> None:
    assert margin_of_error(400) == pytest.approx(4.9, abs=0.01)  # the familiar ± 4.9 points for 400 people


def test_empty_and_small_groups_are_reported_and_incomplete_profiles_left_out() -> None:
    margins = Margins(
        "Insee",
        {"centre": 4210, "gare": 3120, "bourg": 2480, "hameaux": 1190},
        {"15-29": 2130, "30-44": 2450, "45-59": 2780, "60-74": 2350, "75-plus": 1290},
    )
    cells: dict[tuple[str | None, str | None], int] = {
        ("centre", "30-44"): 20,
        ("gare", "45-59"): 15,
        ("bourg", "60-74"): 12,
        ("centre", "15-29"): 2,
        ("gare", None): 4,
        (None, None): 3,
    }
    weights = weigh_cells(margins, cells)
    assert weights.weighted == 49 and weights.unweighted == 7
    assert {(g.dimension, g.code) for g in weights.empty_groups} == {("neighbourhood", "hameaux"), ("age", "75-plus")}
    assert {(g.dimension, g.code) for g in weights.small_groups} == {("age", "15-29")}
    assert set(weights.weights) == {("centre", "30-44"), ("gare", "45-59"), ("bourg", "60-74"), ("centre", "15-29")}
