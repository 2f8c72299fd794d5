"""The efficient (Pareto) set of a cost-benefit trade-off, without plotting."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from dcpower import dimensions


def pareto_mask(cost: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """Points no other point dominates (lower-or-equal cost and higher-or-equal benefit).

    Point i is dominated when some j has ``cost[j] <= cost[i]`` and ``benefit[j] >= benefit[i]``
    with at least one strict; exact duplicates do not dominate each other. NaNs are never
    efficient and never dominate. O(n log n).

    Parameters
    ----------
    cost : np.ndarray
        Cost per point (lower is better), e.g. $/yr, shape (n,).
    benefit : np.ndarray
        Benefit per point (higher is better), e.g. survival probability, shape (n,).

    Returns
    -------
    np.ndarray
        Boolean mask, shape (n,).
    """
    c_all = np.asarray(cost, dtype=float)
    b_all = np.asarray(benefit, dtype=float)
    if c_all.shape != b_all.shape or c_all.ndim != 1:
        raise ValueError(f"cost {c_all.shape} and benefit {b_all.shape} must be equal 1-D shapes")
    mask = np.zeros(c_all.shape, dtype=bool)
    valid = ~(np.isnan(c_all) | np.isnan(b_all))
    if not valid.any():
        return mask
    c, b = c_all[valid], b_all[valid]
    order = np.lexsort((-b, c))  # cost ascending, then benefit descending
    cs, bs = c[order], b[order]
    first = np.r_[True, cs[1:] != cs[:-1]]  # first (best-benefit) point of each equal-cost group
    group = np.cumsum(first) - 1
    group_best = bs[first]
    best_cheaper = np.r_[-np.inf, np.maximum.accumulate(group_best)[:-1]][group]
    dominated = (best_cheaper >= bs) | (group_best[group] > bs)
    efficient = np.empty(cs.size, dtype=bool)
    efficient[order] = ~dominated
    mask[valid] = efficient
    return mask


def frontier_flags(
    summary: pd.DataFrame,
    metric: str,
    dims: Iterable[str] | None = None,
    cost: str = "annual_total_cost_usd",
) -> np.ndarray:
    """Pareto flags of a study summary on (``cost`` lower, ``metric`` higher), flagged within
    each value combination of the grouping dimensions (:data:`dimensions.FRONTIER_GROUPS`:
    market year, event, policy) among ``dims`` (default: the summary's columns). Rows with a
    missing cost or metric are never efficient."""
    by = dimensions.frontier_groups(summary.columns if dims is None else dims)
    flags = pd.Series(False, index=summary.index)
    if metric not in summary.columns:
        return flags.to_numpy()
    key = by[0] if len(by) == 1 else by  # a one-element list: scalar group keys
    groups = list(summary.groupby(key).groups.values()) if by else [summary.index]
    for index in groups:
        part = summary.loc[index]
        ok = part[cost].notna() & part[metric].notna()
        if ok.any():
            flags.loc[part.index[ok]] = pareto_mask(
                part.loc[ok, cost].to_numpy(float), part.loc[ok, metric].to_numpy(float)
            )
    return flags.to_numpy()
