"""Sizing by search: the cheapest size per reliability level in a fraction of a grid's solves.

The study's ``search:`` section bounds each size (equal bounds fix it) and sets a lattice step;
the search evaluates lattice points in rounds, every point an ordinary scenario solved by the
workflow's solve rule. Each round's sizes come from what has been solved:

- **cost prediction** from the nearest evaluated size: its annual total cost plus, per size,
  (annualised cost of one unit − its marginal value) × the step — where a size's marginal value
  (LP duals, $/yr per unit) is below its annualised cost it is too big, and vice versa. Where
  two evaluated sizes differ in one dimension only, their finite difference replaces the
  marginal value (always for the gas-unit count, an integer);
- **reliability steps**: the frontier metric is taken as non-decreasing in BESS MWh and gas
  units, so a size below one that fails a level fails it too, and a size above one that meets
  it meets it too; sizes between are evaluated, which finds the unit counts and MWh where
  survival crosses each level;
- **best-first per level**: each round evaluates, for every level, the unevaluated size with
  the lowest predicted cost that may meet the level and is predicted cheaper than the level's
  incumbent by more than the tolerance.

Stop rule (reported per level): the incumbent of a level — the cheapest evaluated size that
meets it — is *the cheapest for its level* when no lattice neighbour (one step up or down in
one dimension), evaluated or predicted, meets the level and costs less than the incumbent by
more than ``tolerance`` (relative). The search stops when no level has a candidate left (which
implies the rule for every level) or the solve budget ``max_solves`` is spent.

With several market years a size is solved in every year and judged by its worst year (highest
cost, lowest metric; ``search.years: worst``) or the mean over years (``mean``).

Pure Python and pandas; the workflow (``workflow/rules/search.smk``) calls :func:`plan_round`
once per round (a Snakemake checkpoint) and :func:`search_report` at the end.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dcpower import columns
from dcpower.study import SearchConfig
from dcpower.sweep import YEAR_DIM, scenario_name

#: the sizes the frontier metric is taken as monotone in (reliability steps): +1 non-decreasing
#: (more MWh, more units), -1 non-increasing (a longer BESS duration is less MW); the outage is
#: islanded, so the transformer and POI limit are taken as not moving it
RELIABILITY_DIMS = {"bess_mwh": 1, "gen_units": 1, "bess_duration_h": -1}
#: summary column of the round that first evaluated a size (-1: not a search scenario)
ROUND_COLUMN = "search_round"
COST = "annual_total_cost_usd"


@dataclass(frozen=True)
class Dimension:
    """One size of the search: its lattice values (ascending) and whether it is an integer."""

    name: str
    values: tuple[float, ...]
    integer: bool = False

    def index(self, value: float) -> int:
        """Lattice index of ``value`` (nearest value)."""
        return min(range(len(self.values)), key=lambda i: abs(self.values[i] - float(value)))


@dataclass(frozen=True)
class Space:
    """The search lattice: the Cartesian product of the dimensions' values."""

    dims: tuple[Dimension, ...]

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    def n_points(self) -> int:
        """Points of a dense grid at the search's resolution."""
        return math.prod(len(d.values) for d in self.dims)

    def point(self, sizes: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(d.index(sizes[d.name]) for d in self.dims)

    def sizes(self, point: Sequence[int]) -> dict[str, float | int]:
        return {d.name: _number(d.values[i]) for d, i in zip(self.dims, point, strict=True)}

    def points(self) -> Iterable[tuple[int, ...]]:
        return itertools.product(*(range(len(d.values)) for d in self.dims))

    def neighbours(self, point: Sequence[int]) -> list[tuple[int, ...]]:
        """Lattice points one step up or down in one dimension."""
        out = []
        for k, d in enumerate(self.dims):
            for step in (-1, 1):
                j = point[k] + step
                if 0 <= j < len(d.values):
                    out.append(tuple(point[:k]) + (j,) + tuple(point[k + 1 :]))
        return out


def _number(value: float) -> float | int:
    """A lattice value as written in scenario names: an int when whole, else 6 significant
    digits (so 0.1 steps do not print as 0.30000000000000004)."""
    value = float(f"{float(value):.6g}")
    return int(value) if value.is_integer() else value


def lattice(lo: float, hi: float, step: float, integer: bool) -> tuple[float, ...]:
    """Values lo, lo + step, …, hi (hi always included; a step of 1 for integers)."""
    if hi <= lo:
        return (_number(lo),)
    step = 1 if integer else step
    n = max(1, math.ceil((hi - lo) / step - 1e-9))
    vals = [lo + k * step for k in range(n)] + [hi]
    return tuple(_number(round(v) if integer else v) for v in vals)


def space_of(search: SearchConfig) -> Space:
    """The lattice of a ``search:`` section (dimension order: the sweep's)."""
    dims = []
    for name, (lo, hi) in search.bounds().items():
        integer = name in search.INTEGER_DIMS
        step = search.step_of(name)
        dims.append(Dimension(name, lattice(lo, hi, step, integer), integer))
    return Space(tuple(dims))


@dataclass(frozen=True)
class Evaluation:
    """One evaluated size: annual total cost ($/yr) and metric over its market years (worst
    or mean), and d cost / d size per dimension ($/yr per unit; None where unknown)."""

    point: tuple[int, ...]
    cost_usd: float
    metric: float
    slopes: dict[str, float | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return math.isfinite(self.cost_usd) and math.isfinite(self.metric)


def size_slopes(row: Mapping[str, Any], duration_h: float) -> dict[str, float | None]:
    """d annual total cost / d size of one scenario row, $/yr per unit of each search
    dimension: annualised cost of one unit minus its marginal value (the row's columns).

    ``bess_mwh`` carries its power too (MW = MWh / duration, the row's or ``duration_h``);
    ``bess_duration_h`` is its power at the same MWh; ``gen_units`` is one unit's MW times the
    gas value per MW; ``poi_import_mw`` has no annualised cost in the study."""

    def net(asset: str) -> float | None:
        mv = row.get(columns.marginal_value_column(asset))
        uc = row.get(columns.unit_cost_column(asset))
        if mv is None or not math.isfinite(float(mv)):
            return None
        uc = 0.0 if uc is None or not math.isfinite(float(uc)) else float(uc)
        return uc - float(mv)

    energy, power = net("bess_energy"), net("bess_power")
    mwh, mw = float(row.get("bess_mwh") or 0), float(row.get("bess_mw") or 0)
    duration_h = mwh / mw if mwh > 0 and mw > 0 else float(row.get("bess_duration_h", duration_h))
    bess = None if energy is None or power is None else energy + power / duration_h
    # a longer duration at the same MWh is less MW: d MW / d h = -MWh / h²
    hours = None if power is None else -power * mwh / duration_h**2
    gas = net("gas")
    units = float(row.get("gen_units") or 0)
    gen_mw = float(row.get("gen_mw") or 0)
    per_unit = None if gas is None or units <= 0 else gas * gen_mw / units
    return {
        "bess_mwh": bess,
        "gen_units": per_unit,
        "transformer_mva": net("transformer"),
        "poi_import_mw": net("poi_import"),
        "bess_duration_h": hours,
    }


def evaluations(
    summary: pd.DataFrame, space: Space, metric: str, duration_h: float, years: str = "worst"
) -> dict[tuple[int, ...], Evaluation]:
    """The evaluated sizes of a summary (rows of every market year of a size combined: its
    worst year — highest cost, lowest metric, that year's slopes — or the mean). A size with a
    failed or missing year counts as failed (infinite cost)."""
    out: dict[tuple[int, ...], Evaluation] = {}
    if summary.empty:
        return out
    n_years = summary[YEAR_DIM].nunique() if YEAR_DIM in summary.columns else 1
    for _, group in summary.groupby(space.names, sort=True):
        point = space.point(group.iloc[0])
        ok = group[group[COST].notna() & group.get(metric, pd.Series(index=group.index)).notna()]
        if len(ok) < n_years or len(ok) == 0:
            out[point] = Evaluation(point, math.inf, -math.inf)
            continue
        slopes = [size_slopes(r, duration_h) for _, r in ok.iterrows()]
        if years == "mean":
            cost, value = float(ok[COST].mean()), float(ok[metric].mean())
            keys = slopes[0].keys()
            mean = {
                k: (
                    None
                    if any(s[k] is None for s in slopes)
                    else sum(s[k] for s in slopes) / len(slopes)
                )
                for k in keys
            }
            out[point] = Evaluation(point, cost, value, mean)
        else:
            worst = int(ok[COST].to_numpy().argmax())
            cost, value = float(ok[COST].max()), float(ok[metric].min())
            out[point] = Evaluation(point, cost, value, slopes[worst])
    return out


# ------------------------------------------------------------------------------------------
# Predictions
# ------------------------------------------------------------------------------------------


def _continuous(space: Space) -> list[int]:
    return [k for k, d in enumerate(space.dims) if not d.integer]


def _integer(space: Space) -> list[int]:
    return [k for k, d in enumerate(space.dims) if d.integer]


def _solved(evals: Mapping[tuple[int, ...], Evaluation]) -> list[Evaluation]:
    return [e for e in evals.values() if e.ok]


def _line_slope(
    space: Space, evals: Mapping[tuple[int, ...], Evaluation], x: Evaluation, k: int, target: int
) -> float | None:
    """d cost / d size of continuous dimension ``k`` at ``x``: the marginal value's, else the
    finite difference to the nearest evaluated size on the same line toward ``target``."""
    s = x.slopes.get(space.dims[k].name)
    if s is not None and math.isfinite(s):
        return float(s)
    direction = 1 if target > x.point[k] else -1
    best = None
    for e in _solved(evals):
        p = e.point
        if p == x.point or any(p[j] != x.point[j] for j in range(len(p)) if j != k):
            continue
        ahead = (p[k] - x.point[k]) * direction > 0
        if ahead and (best is None or abs(p[k] - x.point[k]) < abs(best.point[k] - x.point[k])):
            best = e
    if best is None:
        return None
    dim = space.dims[k]
    return (best.cost_usd - x.cost_usd) / (dim.values[best.point[k]] - dim.values[x.point[k]])


def _tangent(
    space: Space, evals: Mapping[tuple[int, ...], Evaluation], x: Evaluation, y: Sequence[int]
) -> float | None:
    """Cost at ``y`` on the tangent plane of ``x`` in the continuous sizes (None: a slope is
    unknown)."""
    cost = x.cost_usd
    for k in _continuous(space):
        if y[k] != x.point[k]:
            s = _line_slope(space, evals, x, k, y[k])
            if s is None:
                return None
            cost += s * (space.dims[k].values[y[k]] - space.dims[k].values[x.point[k]])
    return cost


def _slice_cost(
    space: Space, evals: Mapping[tuple[int, ...], Evaluation], y: Sequence[int]
) -> float | None:
    """Cost at ``y`` from the evaluated sizes with its integer sizes: the highest of their
    tangent planes (cost is convex in the continuous sizes: a lower bound, and each solve
    raises it where it matters, like Kelley's cutting planes)."""
    ints = _integer(space)
    planes = [
        t
        for x in _solved(evals)
        if all(x.point[k] == y[k] for k in ints) and (t := _tangent(space, evals, x, y)) is not None
    ]
    return max(planes) if planes else None


def _across_slices(space, evals, y, value_in_slice, combine):
    """A prediction at ``y`` from the nearest evaluated integer slices below and above it (one
    integer dimension, e.g. gas units): ``combine(v_lo, u_lo, v_hi, u_hi, u)``."""
    ints = _integer(space)
    if len(ints) != 1:
        return None
    k = ints[0]
    have = sorted({e.point[k] for e in _solved(evals)})
    below = [u for u in have if u < y[k]]
    above = [u for u in have if u > y[k]]
    sides = []
    for group, pick in ((below, max), (above, min)):
        if group:
            u = pick(group)
            v = value_in_slice(tuple(y[:k]) + (u,) + tuple(y[k + 1 :]))
            if v is not None:
                sides.append((v, space.dims[k].values[u]))
    if not sides:
        return None
    if len(sides) == 1:
        return combine(sides[0][0], sides[0][1], None, None, space.dims[k].values[y[k]])
    (v0, u0), (v1, u1) = sides
    return combine(v0, u0, v1, u1, space.dims[k].values[y[k]])


def predicted_cost(
    space: Space, evals: Mapping[tuple[int, ...], Evaluation], point: Sequence[int]
) -> float:
    """Annual total cost of a lattice point: evaluated; or the highest tangent plane (cost plus
    marginal-value slopes) of the evaluated sizes with its gas-unit count; or, in an unevaluated
    unit count, interpolated between the nearest evaluated counts at the same continuous sizes
    (one side only: that side's cost plus its per-unit slope from the gas marginal value)."""
    point = tuple(point)
    if point in evals:
        return evals[point].cost_usd
    own = _slice_cost(space, evals, point)
    if own is not None:
        return own
    ints = _integer(space)

    def combine(v0, u0, v1, u1, u):
        if v1 is None:
            k = ints[0]
            near = [e for e in _solved(evals) if space.dims[k].values[e.point[k]] == u0]
            x = min(
                near, key=lambda e: sum(abs(a - b) for a, b in zip(e.point, point, strict=True))
            )
            s = x.slopes.get(space.dims[k].name)
            return v0 + (0.0 if s is None or not math.isfinite(s) else s) * (u - u0)
        return v0 + (v1 - v0) * (u - u0) / (u1 - u0)

    value = _across_slices(space, evals, point, lambda p: _slice_cost(space, evals, p), combine)
    return math.nan if value is None else float(value)


#: metrics are interpolated in log(1 - metric) (failures fall geometrically with added units)
_UNRELIABILITY_FLOOR = 1e-6


def _logit(m: float) -> float:
    return math.log(max(1.0 - m, _UNRELIABILITY_FLOOR))


def _unlogit(z: float) -> float:
    return min(1.0, max(0.0, 1.0 - math.exp(z)))


def predicted_metric(
    space: Space, evals: Mapping[tuple[int, ...], Evaluation], point: Sequence[int]
) -> float:
    """Frontier metric of a lattice point: evaluated; else inverse-distance weighted (power 2,
    lattice steps of the reliability dimensions, each scaled to its number of steps) in
    log(1 - metric) over the evaluated sizes — failures fall geometrically with added units —
    always within :func:`metric_bounds`."""
    point = tuple(point)
    if point in evals and evals[point].ok:
        return evals[point].metric
    rel = [k for k, d in enumerate(space.dims) if d.name in RELIABILITY_DIMS]
    spans = {k: max(1, len(space.dims[k].values) - 1) for k in rel}
    total = weight = 0.0
    exact = []
    for e in _solved(evals):
        d2 = sum(((e.point[k] - point[k]) / spans[k]) ** 2 for k in rel)
        if d2 == 0:
            exact.append(_logit(e.metric))
            continue
        total += _logit(e.metric) / d2
        weight += 1.0 / d2
    lo, hi = metric_bounds(space, evals, point)
    if exact:
        value = _unlogit(sum(exact) / len(exact))
    elif weight > 0:
        value = _unlogit(total / weight)
    else:
        return hi
    return min(max(value, lo), hi)


def metric_bounds(
    space: Space, evals: Mapping[tuple[int, ...], Evaluation], point: Sequence[int]
) -> tuple[float, float]:
    """(lowest, highest) metric a lattice point can have, from the evaluated sizes below and
    above it in the reliability dimensions (other dimensions taken as not moving the metric)."""
    rel = [
        (k, RELIABILITY_DIMS[d.name])
        for k, d in enumerate(space.dims)
        if d.name in RELIABILITY_DIMS
    ]
    lo, hi = -math.inf, math.inf
    for p, e in evals.items():
        if not e.ok:
            continue
        if all(sign * p[k] <= sign * point[k] for k, sign in rel):
            lo = max(lo, e.metric)
        if all(sign * p[k] >= sign * point[k] for k, sign in rel):
            hi = min(hi, e.metric)
    if tuple(point) in evals and evals[tuple(point)].ok:
        m = evals[tuple(point)].metric
        return m, m
    return lo, hi


def _below_a_pass(
    space: Space, evals: Mapping[tuple[int, ...], Evaluation], point: Sequence[int], level: float
) -> bool:
    """Whether ``point`` bisects a bracket of the level's step in the BESS: along BESS MWh
    (the other sizes as in ``point``), a size below it is known to fail the level and one above
    it is known to meet it (evaluated, or implied by :func:`metric_bounds`, e.g. a failure with
    more units), and ``point`` is midway between the nearest two. Such sizes stay candidates
    whatever the interpolation says (where survival changes, e.g. once BESS MW covers the
    critical load during the gas start)."""
    ks = [k for k, d in enumerate(space.dims) if d.name == "bess_mwh"]
    if not ks:
        return False
    kb = ks[0]
    if metric_bounds(space, evals, point)[1] < level - 1e-12:
        return False  # known to fail

    def bounds(i: int) -> tuple[float, float]:
        return metric_bounds(space, evals, tuple(point[:kb]) + (i,) + tuple(point[kb + 1 :]))

    fails = [i for i in range(point[kb]) if bounds(i)[1] < level - 1e-12]
    n = len(space.dims[kb].values)
    passes = [i for i in range(point[kb] + 1, n) if _meets(bounds(i)[0], level)]
    if not fails or not passes:
        return False
    return point[kb] == (max(fails) + min(passes)) // 2


def _meets(metric: float, level: float) -> bool:
    return metric >= level - 1e-12


def _cheaper(cost: float, incumbent: float, tolerance: float) -> bool:
    """``cost`` beats the incumbent by more than the relative tolerance."""
    return cost < incumbent - tolerance * abs(incumbent)


def incumbent(evals: Mapping[tuple[int, ...], Evaluation], level: float) -> Evaluation | None:
    """The cheapest evaluated size that meets ``level`` (ties: the lattice's first)."""
    ok = [e for e in evals.values() if e.ok and _meets(e.metric, level)]
    return min(ok, key=lambda e: (e.cost_usd, e.point)) if ok else None


def candidates(
    space: Space,
    evals: Mapping[tuple[int, ...], Evaluation],
    level: float,
    tolerance: float,
    points: Iterable[tuple[int, ...]] | None = None,
) -> list[tuple[float, tuple[int, ...]]]:
    """Unevaluated points (all, or ``points``) predicted to meet ``level`` and predicted cheaper
    than its incumbent by more than the tolerance, as (predicted cost, point), cheapest first."""
    best = incumbent(evals, level)
    out = []
    for p in space.points() if points is None else points:
        if p in evals:
            continue
        if not (
            _meets(predicted_metric(space, evals, p), level)
            or _below_a_pass(space, evals, p, level)
        ):
            continue  # fails it, or is predicted to (reliability steps)
        cost = predicted_cost(space, evals, p)
        if not math.isfinite(cost):
            continue
        if best is None or _cheaper(cost, best.cost_usd, tolerance):
            out.append((cost, p))
    return sorted(out)


@dataclass(frozen=True)
class Choice:
    """The search's answer for one level."""

    level: float
    sizes: dict[str, float | int] | None
    cost_usd: float
    metric: float
    cheapest: bool  # the stop rule holds
    why: str


def choose(
    space: Space, evals: Mapping[tuple[int, ...], Evaluation], level: float, tolerance: float
) -> Choice:
    """The incumbent of ``level`` and whether the stop rule certifies it (no evaluated or
    predicted neighbour within the tolerance is cheaper and meets the level)."""
    best = incumbent(evals, level)
    if best is None:
        if not candidates(space, evals, level, tolerance):
            why = (
                "the most reliable size within the bounds fails it"
                if reliability_corner(space) in evals
                else "no evaluated size meets it and none is predicted to"
            )
            return Choice(level, None, math.nan, math.nan, True, why)
        return Choice(level, None, math.nan, math.nan, False, "no evaluated size meets it yet")
    rivals = []
    for p in space.neighbours(best.point):
        e = evals.get(p)
        if e is not None:
            if e.ok and _meets(e.metric, level) and _cheaper(e.cost_usd, best.cost_usd, tolerance):
                rivals.append(p)
        elif candidates(space, evals, level, tolerance, [p]):
            rivals.append(p)
    if rivals:
        names = ", ".join(scenario_name(space.sizes(p), space.names) for p in rivals)
        why = f"neighbour(s) may be cheaper: {names}"
    else:
        why = "no evaluated or predicted neighbour within the tolerance is cheaper and meets it"
    return Choice(level, space.sizes(best.point), best.cost_usd, best.metric, not rivals, why)


# ------------------------------------------------------------------------------------------
# Rounds
# ------------------------------------------------------------------------------------------


def reliability_corner(space: Space) -> tuple[int, ...]:
    """The most reliable size: the reliability dimensions at their highest, others mid-range."""
    return tuple(
        (len(d.values) - 1 if RELIABILITY_DIMS[d.name] > 0 else 0)
        if d.name in RELIABILITY_DIMS
        else len(d.values) // 2
        for d in space.dims
    )


def initial_design(space: Space) -> list[tuple[int, ...]]:
    """Round 0: the middle of every dimension, and each integer dimension's lowest and highest
    value with the others in the middle (the first reliability steps). The most reliable size
    (:func:`reliability_corner`) follows in round 1 if no size meets a level by then: a solve
    is spent on it only where needed (a tight budget counts solves, not rounds)."""
    mid = tuple(len(d.values) // 2 for d in space.dims)
    out = [mid]
    for k, d in enumerate(space.dims):
        if d.integer:
            for j in (0, len(d.values) - 1):
                p = mid[:k] + (j,) + mid[k + 1 :]
                if p not in out:
                    out.append(p)
    return out


def propose(
    space: Space,
    evals: Mapping[tuple[int, ...], Evaluation],
    levels: Sequence[float],
    tolerance: float,
    budget: int,
) -> list[tuple[int, ...]]:
    """The next round's points: for each level (lowest first) its cheapest candidate in a
    gas-unit count no other level of the round has taken, within the budget (points). Empty:
    no level has a candidate, the search is done."""
    if budget <= 0:
        return []
    if not evals:
        return initial_design(space)[:budget]
    ints = _integer(space)
    out: list[tuple[int, ...]] = []
    slices: set[tuple[int, ...]] = set()
    for level in sorted(levels):
        ranked = candidates(space, evals, level, tolerance)
        corner = reliability_corner(space)
        if not ranked and incumbent(evals, level) is None and corner not in evals:
            ranked = [(math.nan, corner)]  # nothing meets it yet: try the most reliable size
        for _, p in ranked:
            key = tuple(p[k] for k in ints)
            if key not in slices:  # one point per gas-unit count and round: the next point
                out.append(p)  # of a count depends on what its last one shows
                slices.add(key)
                break
    return out[:budget]


def plan_round(
    round_no: int,
    summary: pd.DataFrame,
    search: SearchConfig,
    metric: str,
    levels: Sequence[float],
    duration_h: float,
    n_years: int,
) -> dict[str, Any]:
    """The sizes of round ``round_no`` from the summary rows of the earlier rounds (a JSON-ready
    record: ``round``, ``sizes`` — a list of size mappings, empty when the search is done —
    ``solves_so_far`` and ``reason``)."""
    space = space_of(search)
    evals = evaluations(summary, space, metric, duration_h, search.years)
    used = len(summary)
    budget = (search.max_solves - used) // max(1, n_years)
    points = propose(space, evals, levels, float(search.tolerance), budget)
    if points:
        reason = "initial design" if not evals else "best-first candidates per level"
    elif budget <= 0 or (budget < 1 and evals):
        reason = f"solve budget spent ({used} of max_solves {search.max_solves})"
    else:
        reason = "stop rule: no level has a candidate predicted cheaper within the tolerance"
    return {
        "round": round_no,
        "sizes": [space.sizes(p) for p in points],
        "solves_so_far": used,
        "reason": reason,
    }


def round_of_sizes(rounds: Sequence[Mapping[str, Any]]) -> dict[tuple, int]:
    """Each proposed size (tuple of its values in proposal order) -> the round that proposed
    it first."""
    out: dict[tuple, int] = {}
    for r in rounds:
        for sizes in r["sizes"]:
            out.setdefault(tuple(sorted(sizes.items())), int(r["round"]))
    return out


def add_round_column(summary: pd.DataFrame, rounds: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``summary`` with ``search_round``: the round that evaluated each row's size (-1: none)."""
    first = round_of_sizes(rounds)
    names = sorted({k for r in rounds for s in r["sizes"] for k in s})
    out = summary.copy()

    def lookup(row: pd.Series) -> int:
        key = tuple(sorted((k, _number(row[k])) for k in names))
        return first.get(key, -1)

    out[ROUND_COLUMN] = out.apply(lookup, axis=1).astype(int) if len(out) else []
    return out


def dense_grid_solves(search: SearchConfig, n_years: int) -> int:
    """Solves of a grid over the same bounds at the search's resolution."""
    return space_of(search).n_points() * n_years


def search_report(
    summary: pd.DataFrame,
    search: SearchConfig,
    metric: str,
    levels: Sequence[float],
    duration_h: float,
) -> list[Choice]:
    """The chosen size per level (stop rule evaluated on every solved size)."""
    space = space_of(search)
    evals = evaluations(summary, space, metric, duration_h, search.years)
    return [choose(space, evals, level, float(search.tolerance)) for level in levels]


def search_markdown(
    summary: pd.DataFrame,
    search: SearchConfig,
    metric: str,
    levels: Sequence[float],
    duration_h: float,
    rounds: Sequence[Mapping[str, Any]],
) -> str:
    """The study summary's search section: chosen size per level, the stop rule, solves used
    and what a grid at the same resolution would have cost."""
    years = sorted(summary[YEAR_DIM].dropna().unique()) if YEAR_DIM in summary else []
    n_years = max(1, len(years))
    choices = search_report(summary, search, metric, levels, duration_h)
    space = space_of(search)
    dense = dense_grid_solves(search, n_years)
    last = rounds[-1]["reason"] if rounds else "-"
    per_solve = summary["solve_seconds"].median() if "solve_seconds" in summary else math.nan
    lines = [
        "## Sizing by search",
        "",
        f"{len(summary)} solves in {len(rounds)} rounds (max_solves {search.max_solves}); a grid "
        f"at the same resolution ({' × '.join(str(len(d.values)) for d in space.dims)} sizes"
        + (f" × {n_years} years" if n_years > 1 else "")
        + f") would take {dense:,} solves"
        + (
            f" (≈ {dense * per_solve / 3600:,.1f} h of solver time at the median "
            f"{per_solve:.1f} s per solve)"
            if math.isfinite(per_solve)
            else ""
        )
        + "."
        + (
            f" Sizes judged by their {'worst year' if search.years == 'worst' else 'mean'} over "
            "the market years."
            if n_years > 1
            else ""
        ),
        "",
        f"Stop rule: a size is the cheapest for its level when no lattice neighbour (one step "
        f"in one dimension), evaluated or predicted, meets the level and costs more than "
        f"{float(search.tolerance):.2%} less. Last round: {last}.",
        "",
        "| level | chosen size | annual total cost $M/yr | metric | cheapest for its level |",
        "|---|---|---|---|---|",
    ]
    for c in choices:
        if c.sizes is None:
            lines.append(f"| {c.level:g} | none | | | {c.why} |")
            continue
        lines.append(
            f"| {c.level:g} | {scenario_name(c.sizes, space.names)} | {c.cost_usd / 1e6:.3f} | "
            f"{c.metric:.4f} | {'yes' if c.cheapest else 'no: ' + c.why} |"
        )
    if years:
        lines += ["", "### Chosen sizes in every market year", ""]
        lines += ["| level | " + " | ".join(f"{int(y)} $M/yr" for y in years) + " |"]
        lines += ["|---|" + "---|" * len(years)]
        for c in choices:
            if c.sizes is None:
                continue
            rows = summary
            for k, v in c.sizes.items():
                rows = rows[rows[k].map(_number) == v]
            by_year = rows.set_index(YEAR_DIM)[COST]
            cells = [
                f"{by_year.get(y, math.nan) / 1e6:.3f}" if y in by_year.index else "-"
                for y in years
            ]
            lines.append(f"| {c.level:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def chosen_rows(
    summary: pd.DataFrame,
    search: SearchConfig,
    metric: str,
    levels: Sequence[float],
    duration_h: float,
) -> pd.DataFrame:
    """The summary row of each level's chosen size (its costliest market year), with ``level``."""
    out = []
    for c in search_report(summary, search, metric, levels, duration_h):
        if c.sizes is None:
            continue
        rows = summary
        for k, v in c.sizes.items():
            rows = rows[rows[k].map(_number) == v]
        rows = rows[rows[COST].notna()]
        if len(rows):
            out.append({**rows.loc[rows[COST].idxmax()].to_dict(), "level": c.level})
    return pd.DataFrame(out)
