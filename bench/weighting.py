"""Weighting 100,000 respondents: raking on the neighbourhood and age margins, with trimming.

Two ways are timed on the same biased sample: `rake` on one entry per respondent (what the tests
compare with samplics), and `weigh_cells` on counts per (neighbourhood, age bracket) cell, which is
what `compute_results` does. Goal: under a second for 100,000 respondents.
"""

from __future__ import annotations

import time

import numpy as np

from participation.weighting import Margins, rake, weigh_cells

HOODS = ["centre", "gare", "bourg", "hameaux", "zone-a", "zone-b", "zone-c", "zone-d"]
AGES = ["15-29", "30-44", "45-59", "60-74", "75-plus"]


def sample(size: int, seed: int = 18) -> tuple[np.ndarray, np.ndarray, Margins]:
    """Respondents whose neighbourhood and age are linked, drawn far from the population's margins."""
    rng = np.random.default_rng(seed)
    hood = rng.choice(len(HOODS), size=size, p=[0.40, 0.25, 0.15, 0.01, 0.08, 0.06, 0.04, 0.01])
    age = np.minimum(len(AGES) - 1, rng.poisson(0.5 + 0.35 * hood)).astype(int)
    hoods = dict(zip(HOODS, [4210, 3120, 2480, 1190, 2000, 1800, 1600, 1600], strict=True))
    total = sum(hoods.values())
    shares = [0.19, 0.22, 0.25, 0.21, 0.13]
    ages = {a: round(total * s) for a, s in zip(AGES, shares, strict=True)}
    ages["75-plus"] += total - sum(ages.values())
    return hood, age, Margins("bench", hoods, ages)


def best_of(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def run(size: int, *, quiet: bool = False) -> dict[str, float]:
    hood, age, margins = sample(size)
    targets = [
        np.array([margins.neighbourhoods[h] for h in HOODS], dtype=float),
        np.array([margins.age_brackets[a] for a in AGES], dtype=float),
    ]
    per_respondent = best_of(3, lambda: rake([hood, age], targets))
    weights = rake([hood, age], targets)
    cells: dict[tuple[str | None, str | None], int] = {}
    for h, a in zip(hood.tolist(), age.tolist(), strict=True):
        cells[(HOODS[h], AGES[a])] = cells.get((HOODS[h], AGES[a]), 0) + 1
    per_cell = best_of(3, lambda: weigh_cells(margins, cells))
    summary = weigh_cells(margins, cells)
    figures = {
        "respondents": float(size),
        "rake_per_respondent_s": per_respondent,
        "weigh_cells_s": per_cell,
        "max_weight_ratio": float(weights.max() / weights.mean()),
        # How far the trimmed weights leave the margins (the price of the bound), relative.
        "margin_gap": max(
            float(np.max(np.abs(np.bincount(g, weights=weights, minlength=len(t)) - t) / t))
            for g, t in ((hood, targets[0]), (age, targets[1]))
        ),
        "design_effect": float(summary.design_effect or 0),
    }
    if not quiet:
        print(
            f"weighting {size:,} respondents ({len(HOODS)} neighbourhoods × {len(AGES)} age brackets, trimmed to 0.2–5× the mean):"
        )
        print(f"  rake, one entry per respondent: {per_respondent:.3f} s (best of 3)")
        print(f"  weigh_cells, as compute_results does: {per_cell:.3f} s (best of 3)")
        print(
            f"  largest weight {figures['max_weight_ratio']:.2f}× the mean; design effect {figures['design_effect']:.2f}; "
            f"margins met within {100 * figures['margin_gap']:.2f} %"
        )
    return figures
