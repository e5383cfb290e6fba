"""Weighting participants to the commune's population: raking, trimming, Kish's effective size.

Raking (iterative proportional fitting) adjusts the weights of the participants with a complete
profile (neighbourhood and age bracket) so that, weighted, they add up to the population of each
neighbourhood and of each age bracket. Weights are then kept within [TRIM_LOW, TRIM_HIGH] times
the mean weight, and raking and trimming alternate until both hold (docs/representativite.md).
Pure numpy: checked against samplics in tests/participation/test_weighting.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where weights are computed: the bot starts without it
    import numpy as np

# A participant counts for at most 5 and at least 0.2 times the average participant: beyond, one
# person's answers would swing a result (a common bound, e.g. the ANES raking guidelines).
TRIM_LOW = 0.2
TRIM_HIGH = 5.0
# Fewer participants than this in a group: its weighted figures rest on too few people to trust.
MIN_GROUP = 5
# A group is under-represented when its share of participants is below this fraction of its
# share of the population (or when it has fewer than MIN_GROUP participants).
UNDER_REPRESENTED_RATIO = 0.8
Z_95 = 1.959963984540054
TOLERANCE = 1e-10
MAX_SWEEPS = 1000
MAX_TRIM_ROUNDS = 200


def _ipf(weights: np.ndarray, counts: np.ndarray, groups: Sequence[np.ndarray], targets: Sequence[np.ndarray]) -> np.ndarray:
    """Rake per-person `weights` of cells holding `counts` people until every margin matches its
    targets within TOLERANCE (relative)."""
    import numpy as np

    w = weights.copy()
    for _ in range(MAX_SWEEPS):
        for group, target in zip(groups, targets, strict=True):
            sums = np.bincount(group, weights=w * counts, minlength=len(target))
            w *= (target / sums)[group]
        worst = max(
            float(np.max(np.abs(np.bincount(g, weights=w * counts, minlength=len(t)) - t) / t))
            for g, t in zip(groups, targets, strict=True)
        )
        if worst <= TOLERANCE:
            break
    return w


def _clip(w: np.ndarray, counts: np.ndarray, low: float, high: float) -> np.ndarray:
    """Clip weights to [low, high] times their mean, again until the mean stops moving (clipping moves it)."""
    import numpy as np

    for _ in range(MAX_SWEEPS):
        mean = float((w * counts).sum() / counts.sum())
        clipped = np.clip(w, low * mean, high * mean)
        if np.allclose(clipped, w, rtol=TOLERANCE, atol=0):
            return clipped
        w = clipped
    return w


def rake(
    groups: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    *,
    base: np.ndarray | None = None,
    trim: tuple[float, float] | None = (TRIM_LOW, TRIM_HIGH),
) -> np.ndarray:
    """Weights of each participant so that weighted counts match `targets` on every margin.

    `groups[k][i]` is the category (0..len(targets[k])-1) of participant i on margin k; every
    category must have at least one participant and every margin the same total. With `trim`,
    weights are clipped to [low, high] times their mean after each raking, until clipping changes
    nothing: the bound always holds, the margins hold as far as the bound allows.

    Participants alike on every margin (and base weight) get the same weight, so the work is done
    on those cells, a few dozen whatever the number of participants.
    """
    import numpy as np

    base = np.ones(len(groups[0])) if base is None else np.asarray(base, dtype=float)
    columns = np.column_stack([*(np.asarray(g, dtype=float) for g in groups), base])
    cells, inverse, counts = np.unique(columns, axis=0, return_inverse=True, return_counts=True)
    cell_groups = [cells[:, k].astype(int) for k in range(len(groups))]
    return rake_cells(cell_groups, counts.astype(float), targets, base=cells[:, -1], trim=trim)[inverse.reshape(-1)]


def rake_cells(
    groups: Sequence[np.ndarray],
    counts: np.ndarray,
    targets: Sequence[np.ndarray],
    *,
    base: np.ndarray | None = None,
    trim: tuple[float, float] | None = (TRIM_LOW, TRIM_HIGH),
) -> np.ndarray:
    """`rake` on cells: `groups[k][c]` is cell c's category on margin k, `counts[c]` its people.
    Returns the weight of one person of each cell."""
    import numpy as np

    targets = [np.asarray(t, dtype=float) for t in targets]
    w = _ipf(np.ones(len(counts)) if base is None else np.asarray(base, dtype=float), counts, groups, targets)
    if trim is not None:
        low, high = trim
        for _ in range(MAX_TRIM_ROUNDS):
            clipped = _clip(w, counts, low, high)
            if np.allclose(clipped, w, rtol=TOLERANCE, atol=0):
                break
            w = _ipf(clipped, counts, groups, targets)
        w = _clip(w, counts, low, high)
    return w


def margin_of_error(n_effective: float, proportion: float = 0.5) -> float | None:
    """Half-width of the 95 % interval of a proportion, in percentage points (worst case p = 0.5)."""
    if n_effective <= 0:
        return None
    return 100 * Z_95 * math.sqrt(proportion * (1 - proportion) / n_effective)


@dataclass(frozen=True)
class Margins:
    """The population file: inhabitants aged 15 and over per neighbourhood and per age bracket."""

    source: str
    neighbourhoods: dict[str, int]
    age_brackets: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.neighbourhoods.values())

    def share(self, dimension: str, code: str) -> float:
        counts = self.neighbourhoods if dimension == "neighbourhood" else self.age_brackets
        return counts.get(code, 0) / self.total if self.total else 0.0


@dataclass(frozen=True)
class GroupFigure:
    """One group of the population (a neighbourhood, an age bracket) against the participants."""

    dimension: str  # "neighbourhood" | "age"
    code: str
    population: int
    population_share: float
    participants: int
    participant_share: float  # among participants whose profile gives this dimension

    @property
    def under_represented(self) -> bool:
        return self.participants < MIN_GROUP or self.participant_share < UNDER_REPRESENTED_RATIO * self.population_share


@dataclass
class CellWeights:
    """Weights by profile cell (neighbourhood, age bracket): raking gives one weight per cell."""

    source: str
    weights: dict[tuple[str, str], float]  # per participant of that cell, mean 1 over the weighted
    weighted: int  # participants with a complete profile (weighted)
    unweighted: int  # participants left out of the weighted figures (incomplete profile)
    n_effective: float
    design_effect: float | None
    margin_of_error: float | None  # percentage points, p = 0.5
    groups: list[GroupFigure] = field(default_factory=list)
    empty_groups: list[GroupFigure] = field(default_factory=list)  # no participant: cannot be weighted up
    small_groups: list[GroupFigure] = field(default_factory=list)  # fewer than MIN_GROUP participants


def group_figures(margins: Margins, cells: dict[tuple[str | None, str | None], int]) -> list[GroupFigure]:
    """Participants by neighbourhood and by age bracket against the population, in the file's order."""
    figures = []
    for dimension, counts, position in (("neighbourhood", margins.neighbourhoods, 0), ("age", margins.age_brackets, 1)):
        taking_part: dict[str, int] = {}
        for cell, n in cells.items():
            code = cell[position]
            if code is not None:
                taking_part[code] = taking_part.get(code, 0) + n
        known = sum(n for code, n in taking_part.items() if code in counts)
        for code, population in counts.items():
            figures.append(
                GroupFigure(
                    dimension=dimension,
                    code=code,
                    population=population,
                    population_share=population / margins.total if margins.total else 0.0,
                    participants=taking_part.get(code, 0),
                    participant_share=taking_part.get(code, 0) / known if known else 0.0,
                )
            )
    return figures


def weigh_cells(margins: Margins, cells: dict[tuple[str | None, str | None], int]) -> CellWeights:
    """Rake the participants, given as counts per (neighbourhood, age bracket), to `margins`.

    Participants missing either code (or with a neighbourhood the population file lacks) are left
    out of the weighted figures. Groups with no participant are dropped from the margins, the
    others keeping their relative sizes: weighting cannot invent the missing people, it says so.
    """
    import numpy as np

    groups = group_figures(margins, cells)
    complete = {
        (hood, age): n
        for (hood, age), n in cells.items()
        if n > 0 and hood in margins.neighbourhoods and age in margins.age_brackets
    }
    weighted = sum(complete.values())
    unweighted = sum(cells.values()) - weighted
    present_hoods = sorted({hood for hood, _ in complete}, key=list(margins.neighbourhoods).index)
    present_ages = sorted({age for _, age in complete}, key=list(margins.age_brackets).index)
    empty = [g for g in groups if g.participants == 0]
    small = [g for g in groups if 0 < g.participants < MIN_GROUP]
    if not complete:
        return CellWeights(margins.source, {}, 0, unweighted, 0.0, None, None, groups, empty, small)
    keys = list(complete)
    counts = np.array([complete[k] for k in keys], dtype=float)
    hood_index = np.array([present_hoods.index(h) for h, _ in keys])
    age_index = np.array([present_ages.index(a) for _, a in keys])
    total = float(margins.total)
    hood_targets = np.array([margins.neighbourhoods[h] for h in present_hoods], dtype=float)
    age_targets = np.array([margins.age_brackets[a] for a in present_ages], dtype=float)
    # Rescaled to one total: the two margins lose different groups when some are empty.
    hood_targets *= total / hood_targets.sum()
    age_targets *= total / age_targets.sum()
    w = rake_cells([hood_index, age_index], counts, [hood_targets, age_targets])
    w /= (w * counts).sum() / counts.sum()  # mean 1 per participant
    by_cell = {key: float(weight) for key, weight in zip(keys, w, strict=True)}
    n_effective = float((w * counts).sum() ** 2 / (w * w * counts).sum())
    return CellWeights(
        source=margins.source,
        weights=by_cell,
        weighted=weighted,
        unweighted=unweighted,
        n_effective=n_effective,
        design_effect=weighted / n_effective if n_effective else None,
        margin_of_error=margin_of_error(n_effective),
        groups=groups,
        empty_groups=empty,
        small_groups=small,
    )
