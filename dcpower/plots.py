"""Figures shared by the workflow, CLI and UI: cost–reliability frontier, net value, cost stacks.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot, no GUI backend, safe
in worker threads) and written atomically to every path given: PNG at 150 dpi or SVG, chosen by
the suffix. Money is shown in $M/yr.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dcpower import columns, dimensions, headroom
from dcpower.results import write_atomic_with

PathLike = str | os.PathLike[str]
DPI = 150
_FORMATS = {".png": "png", ".svg": "svg"}

#: cost-stack components: (summary column, legend label), from the term registry (costs add,
#: revenues subtract; per-product reserve revenues are found by :func:`stack_components`)
COST_COMPONENTS = [(t.column, t.label) for t in columns.TERMS]


def save_figure(fig: Figure, paths: PathLike | Iterable[PathLike]) -> None:
    """Write ``fig`` atomically to every path (``.png`` at 150 dpi or ``.svg``).

    Each file goes through the one output writer (:func:`dcpower.results.write_atomic_with`:
    checked target, temporary file in the target folder, then renamed into place), so readers
    never see a partial figure. Parent folders are created.
    """
    for path in [paths] if isinstance(paths, str | os.PathLike) else paths:
        path = Path(path)
        fmt = _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"{path}: figure paths must end in .png or .svg")
        meta = {"Date": None} if fmt == "svg" else None  # reproducible SVG bytes
        write_atomic_with(
            path,
            lambda tmp, fmt=fmt, meta=meta: fig.savefig(
                tmp, format=fmt, dpi=DPI, bbox_inches="tight", metadata=meta
            ),
        )


def scenario_label(row: pd.Series, sep: str = " · ") -> str:
    """Short scenario label, e.g. ``400 MWh · 4 units · 150 MVA``: every study dimension of
    :data:`dcpower.dimensions.DIMENSIONS` the row has (POI limit, year, event, policy)."""
    return sep.join(
        dimensions.value_label(n, row[n])
        for n in dimensions.NAMES
        if n in row.index and pd.notna(row[n])
    )


def _label_points(ax, xs, ys, rows: pd.DataFrame, bold=None) -> None:
    """Label each point with its scenario, towards the inside of the axes, alternating above and
    below; ``bold``: per point, whether its label is bold."""
    mid = ax.transAxes.transform((0.5, 0.0))[0]  # display units: right for any axis scale
    for i, (xi, yi, (_, row)) in enumerate(zip(xs, ys, rows.iterrows(), strict=True)):
        right = ax.transData.transform((xi, yi))[0] > mid
        ax.annotate(
            scenario_label(row),
            (xi, yi),
            xytext=(-6 if right else 6, -12 if i % 2 else 6),
            textcoords="offset points",
            ha="right" if right else "left",
            fontsize=7,
            fontweight="bold" if bold is not None and bold[i] else "normal",
        )


def metric_label(metric: str) -> str:
    """Axis label of a survival column: ``survival_prob_4h`` → ``P(survive 4 h outage)``."""
    hours = columns.survival_duration_h(metric)
    if hours is None:
        return metric
    text = f"P(survive {hours:g} h outage)"
    return text if columns.survival_statistic(metric) == "prob" else f"worst-start {text}"


#: the nines axis's cap: a probability of 1 is drawn this many nines to the right of the
#: highest finite point or level (it has no finite number of nines)
NINES_HEADROOM = 1.0


def nines(p: np.ndarray | float) -> np.ndarray:
    """Reliability in "nines": −log10(1 − p) (0.9 → 1, 0.99 → 2, 0.999 → 3; 1 → inf)."""
    q = 1.0 - np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return -np.log10(q)


def set_nines_axis(ax, values: np.ndarray, levels: Iterable[float] = ()) -> float:
    """Put the x axis of ``ax`` on a nines scale (data stay probabilities): 0.9, 0.99, 0.999
    are equally spaced; the reliability ``levels`` are marked by dashed lines. A probability
    of 1 is drawn at the cap (returned, in nines), ticked "1". Returns the cap."""
    finite = [float(v) for v in nines(np.r_[np.asarray(values, float), list(levels)])]
    finite = [v for v in finite if np.isfinite(v)]
    cap = max([1.0, *finite]) + NINES_HEADROOM

    def forward(p):
        return np.minimum(nines(p), cap)

    def inverse(n):
        return 1.0 - 10.0 ** (-np.asarray(n, dtype=float))

    ax.set_xscale("function", functions=(forward, inverse))
    ax.set_xlim(0.0, inverse(cap + 0.05))
    # whole nines up to half a nine below the cap, where "1" is drawn (no overlapping labels)
    ticks = [0.0] + [1.0 - 10.0**-k for k in range(1, int(np.floor(cap - 0.5)) + 1)]
    labels = ["0"] + [f"{t:.{k}f}" for k, t in enumerate(ticks[1:], start=1)]
    if inverse(cap) not in ticks:
        ticks.append(float(inverse(cap)))
        labels.append("1")
    ax.set_xticks(ticks, labels)
    ax.minorticks_off()
    for level in levels:
        ax.axvline(level, color="tab:red", ls="--", lw=0.8, alpha=0.7, zorder=1, gid="level")
        ax.annotate(
            f"level {level:g}",
            (level, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, 3),
            textcoords="offset points",
            fontsize=7,
            color="tab:red",
        )
    return cap


#: policy → (colour, line style, legend label) of its frontier
POLICY_STYLE = {
    "perfect_foresight": ("tab:blue", "--", "Pareto, perfect foresight (upper bound)"),
    "forecast": ("tab:red", "-", "Pareto, forecast policy (what to bank on)"),
}


def plot_frontier(
    summary: pd.DataFrame,
    metric: str,
    paths: PathLike | Iterable[PathLike] = (),
    levels: Iterable[float] = (),
    chosen: pd.DataFrame | None = None,
) -> Figure:
    """Cost–reliability frontier: annual total cost ($M/yr) against a survival probability.

    All scenarios are grey; Pareto-efficient ones (``pareto`` column) are highlighted, labelled
    and joined by a step line in ``metric`` order (cheapest cost to reach each reliability).
    The highlighted scatter has gid ``"pareto"``; with an ``operations_policy`` column, one
    frontier per policy (gid ``"pareto_<policy>"``): perfect foresight dashed (the upper
    bound), the forecast policy solid (what to bank on). The reliability axis is in nines
    (:func:`set_nines_axis`: 0.9, 0.99, 0.999 equally spaced) with ``levels`` marked; each
    cost's interval (``annual_total_cost_lower_bound_usd`` to the cost) is a vertical bar.

    Parameters
    ----------
    summary : pd.DataFrame
        One row per scenario with ``metric``, ``annual_total_cost_usd`` ($/yr), ``pareto`` and
        the size columns ``bess_mwh`` (MWh), ``gen_units``, ``transformer_mva`` (MVA).
    metric : str
        Survival column on the x axis, e.g. ``survival_prob_4h`` (probability, -).
    paths : path or iterable of paths
        ``.png`` / ``.svg`` files to write.
    levels : iterable of float
        Reliability levels to mark (probability, -).
    chosen : pd.DataFrame, optional
        A search's chosen size per level (summary rows plus ``level``): starred, with each
        asset's annualised cost and marginal value ($/yr per unit) at that size. A
        ``search_round`` column colours every size by the round that evaluated it (gid
        ``"search_path"``).

    Returns
    -------
    Figure
    """
    levels = [float(v) for v in levels]
    x = summary[metric].to_numpy(float)
    y = summary["annual_total_cost_usd"].to_numpy(float) / 1e6
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.add_subplot()
    set_nines_axis(ax, x[np.isfinite(x)], levels)
    lower_col = "annual_total_cost_lower_bound_usd"
    if lower_col in summary:
        lower = summary[lower_col].to_numpy(float) / 1e6
        ok = np.isfinite(lower)
        ax.errorbar(
            x[ok], y[ok], yerr=np.vstack([y[ok] - lower[ok], np.zeros(ok.sum())]), fmt="none",
            ecolor="0.55", elinewidth=1, capsize=2, zorder=2, label="cost interval (solver bound)",
        )  # fmt: skip
    ax.scatter(x, y, s=24, color="0.7", label="all scenarios", zorder=2, gid="all")
    policies = (
        [(None, np.ones(len(summary), bool))]
        if columns.POLICY_DIM not in summary.columns
        else [(p, (summary[columns.POLICY_DIM] == p).to_numpy()) for p in POLICY_STYLE]
    )
    for policy, mine in policies:  # one frontier per dispatch policy (the study dimension)
        eff = summary["pareto"].to_numpy(bool) & mine
        if policy is not None and not eff.any():
            continue
        colour, dash, label = POLICY_STYLE.get(policy, ("tab:blue", "-", "Pareto-efficient"))
        order = np.argsort(x[eff], kind="stable")
        xe, ye = x[eff][order], y[eff][order]
        ax.step(xe, ye, where="pre", color=colour, lw=1.5, ls=dash, zorder=3)
        ax.scatter(
            xe,
            ye,
            s=48,
            color=colour,
            edgecolor="k",
            zorder=4,
            label=label,
            gid="pareto" if policy is None else f"pareto_{policy}",
        )
        rows = summary[eff].iloc[order]
        _label_points(ax, xe, ye, rows)
    if "search_round" in summary.columns and (summary["search_round"] >= 0).any():
        _mark_search(fig, ax, summary, x, y, chosen, metric)
    ax.set_xlabel(metric_label(metric))
    ax.set_ylabel("Annual total cost ($M/yr)")
    ax.set_title("Cost–reliability frontier (reliability in nines: 0.9, 0.99, 0.999 evenly spaced)")
    ax.grid(True, alpha=0.4)
    ax.legend(loc="best", fontsize=8)
    save_figure(fig, paths)
    return fig


def _mark_search(fig, ax, summary, x, y, chosen, metric) -> None:
    """The search path (each size coloured and numbered by its round) and the chosen size per
    level with its assets' annualised cost vs marginal value."""
    rounds = summary["search_round"].to_numpy(int)
    path = ax.scatter(
        x, y, c=rounds, cmap="viridis", s=30, zorder=5, gid="search_path", label="search rounds"
    )
    for xi, yi, r in zip(x, y, rounds, strict=True):
        ax.annotate(str(r), (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=6)
    fig.colorbar(path, ax=ax, label="search round")
    if chosen is None or chosen.empty:
        return
    cy = chosen["annual_total_cost_usd"].to_numpy(float) / 1e6
    ax.scatter(
        chosen[metric],
        cy,
        marker="*",
        s=260,
        color="tab:red",
        edgecolor="k",
        zorder=6,
        gid="chosen",
        label="chosen size per level",
    )
    lines = ["annualised cost vs marginal value at the chosen sizes, $/yr per unit:"]
    for _, row in chosen.iterrows():
        parts = []
        for asset, unit in columns.MARGINAL_VALUE_UNITS.items():
            uc = row.get(columns.unit_cost_column(asset))
            mv = row.get(columns.marginal_value_column(asset))
            if uc is not None and mv is not None and np.isfinite(uc) and np.isfinite(mv):
                parts.append(f"{asset} {uc:,.0f} vs {mv:,.0f}/{unit}")
        lines.append(f"level {row['level']:g} ({scenario_label(row)}): " + "; ".join(parts))
    fig.text(0.01, -0.02, "\n".join(lines), fontsize=6, va="top", ha="left", wrap=True)


def plot_net_value_vs_bess(
    summary: pd.DataFrame, paths: PathLike | Iterable[PathLike] = ()
) -> Figure:
    """Net operating value ($M/yr) against BESS energy (MWh): a panel per transformer MVA.

    One line per gas-unit count (shared y axis); several rows for the same sizes (e.g. market
    years) are averaged.

    Parameters
    ----------
    summary : pd.DataFrame
        Columns ``bess_mwh`` (MWh), ``gen_units``, ``transformer_mva`` (MVA) and
        ``net_operating_value_usd`` ($/yr).
    paths : path or iterable of paths
        ``.png`` / ``.svg`` files to write.

    Returns
    -------
    Figure
    """
    keys = ["transformer_mva", "gen_units", "bess_mwh"]
    mean = summary.groupby(keys, sort=True)["net_operating_value_usd"].mean().reset_index()
    mvas = sorted(mean["transformer_mva"].unique())
    units = sorted(mean["gen_units"].unique())
    colors = mpl.colormaps["viridis"](np.linspace(0.0, 0.85, max(len(units), 1)))
    fig = Figure(figsize=(1.0 + 4.0 * len(mvas), 4.5), layout="constrained")
    axes = fig.subplots(1, len(mvas), sharey=True, squeeze=False)[0]
    for ax, mva in zip(axes, mvas, strict=True):
        panel = mean[mean["transformer_mva"] == mva]
        for color, u in zip(colors, units, strict=True):
            line = panel[panel["gen_units"] == u]
            if line.empty:
                continue
            ax.plot(
                line["bess_mwh"],
                line["net_operating_value_usd"] / 1e6,
                marker="o",
                color=color,
                label=f"{float(u):g} gas units",
            )
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.set_title(f"Transformer {float(mva):g} MVA")
        ax.set_xlabel("BESS energy (MWh)")
        ax.grid(True, alpha=0.4)
    axes[0].set_ylabel("Net operating value ($M/yr)")
    axes[-1].legend(loc="best", fontsize=8)
    fig.suptitle("Net operating value vs BESS size")
    save_figure(fig, paths)
    return fig


def stack_components(frame: pd.DataFrame) -> list[tuple[str, str, int]]:
    """Cost-stack components present in ``frame``: (column, label, sign +1 cost / −1 revenue),
    every $ term of :data:`dcpower.columns.TERMS` and the per-product reserve revenues."""
    return [(t.column, t.label, 1 if t.kind == "cost" else -1) for t in columns.stack_terms(frame)]


def plot_cost_stack(
    summary_rows: pd.DataFrame, paths: PathLike | Iterable[PathLike] = ()
) -> Figure:
    """Annual cost stack per scenario ($M/yr): costs up, revenues down, net total marked.

    Every $ term of :data:`dcpower.columns.TERMS` the rows carry is a segment: costs (annualised
    capex, fixed O&M, energy import, fuel, starts, degradation, unserved load, curtailment, load
    reserve deployment, the CP charge, the PF penalty, real-time deviations) stack upward and
    revenues (energy export, each reserve product) downward as negatives; a component of the
    opposite sign (e.g. import at negative prices) stacks on the other side. A diamond marks
    ``annual_total_cost_usd``, the sum of the segments.

    Parameters
    ----------
    summary_rows : pd.DataFrame
        Rows of the summary to show (one bar each), with the $/yr stack columns.
    paths : path or iterable of paths
        ``.png`` / ``.svg`` files to write.

    Returns
    -------
    Figure
    """
    if summary_rows.empty:
        raise ValueError("plot_cost_stack needs at least one scenario row")
    comps = stack_components(summary_rows)
    n = len(summary_rows)
    pos = np.arange(n)
    up, down = np.zeros(n), np.zeros(n)
    cost_colors = {t.column: t.colour for t in columns.TERMS}
    rev_colors = mpl.colormaps["Greens"](
        np.linspace(0.45, 0.9, max(sum(s < 0 for *_, s in comps), 1))
    )
    fig = Figure(figsize=(max(6.0, 1.2 * n + 4.0), 5.5), layout="constrained")
    ax = fig.add_subplot()
    i_rev = 0
    for col, label, sign in comps:
        v = sign * summary_rows[col].fillna(0.0).to_numpy(float) / 1e6
        if sign > 0:
            color = cost_colors.get(col, columns.RESERVE_REVENUE_COLOUR)
        else:
            color, i_rev = rev_colors[i_rev], i_rev + 1
        bottom = np.where(v >= 0, up, down)
        ax.bar(pos, v, 0.6, bottom=bottom, color=color, label=label, edgecolor="white", lw=0.4)
        up += np.maximum(v, 0.0)
        down += np.minimum(v, 0.0)
    total = summary_rows["annual_total_cost_usd"].to_numpy(float) / 1e6
    ax.scatter(
        pos,
        total,
        marker="D",
        s=50,
        color="k",
        zorder=5,
        label="Net annual total cost",
        gid="net_total",
    )
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(pos, [scenario_label(r, "\n") for _, r in summary_rows.iterrows()], fontsize=8)
    ax.set_ylabel("$M/yr (costs +, revenues −)")
    ax.set_title("Annual cost stack")
    ax.grid(True, axis="y", alpha=0.4)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    save_figure(fig, paths)
    return fig


def plot_frontier_years(
    across: pd.DataFrame,
    metric: str,
    years: Iterable[int],
    paths: PathLike | Iterable[PathLike] = (),
) -> Figure:
    """Each size across market years: mean annual total cost ($M/yr) against the mean of
    ``metric``, whiskers from the worst to the best year on both axes; sizes Pareto-efficient in
    every year are highlighted and labelled (scatter gid ``"pareto_every_year"``).

    Parameters
    ----------
    across : pd.DataFrame
        :func:`dcpower.sweep.across_years`: one row per size with
        ``annual_total_cost_usd_{worst,mean,best}`` ($/yr), ``<metric>_{worst,mean,best}``,
        ``pareto_every_year`` and the size columns.
    metric : str
        Survival column, e.g. ``survival_prob_8h`` (probability, -).
    years : iterable of int
        The study's market years (title).
    paths : path or iterable of paths
        ``.png`` / ``.svg`` files to write.

    Returns
    -------
    Figure
    """
    data = across[across["n_years"] > 0]
    cost = "annual_total_cost_usd"
    x = data[f"{metric}_mean"].to_numpy(float)
    y = data[f"{cost}_mean"].to_numpy(float) / 1e6
    xerr = np.vstack([x - data[f"{metric}_worst"], data[f"{metric}_best"] - x])
    yerr = np.vstack([y - data[f"{cost}_best"] / 1e6, data[f"{cost}_worst"] / 1e6 - y])
    every = data["pareto_every_year"].to_numpy(bool)
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar(
        x, y, xerr=xerr, yerr=yerr, fmt="o", ms=5, color="0.5", ecolor="0.6", capsize=3,
        label="size: mean, whiskers worst–best year", zorder=2,
    )  # fmt: skip
    ax.scatter(
        x[every],
        y[every],
        s=90,
        marker="*",
        color="tab:orange",
        edgecolor="k",
        zorder=4,
        label="Pareto-efficient in every year",
        gid="pareto_every_year",
    )
    _label_points(ax, x, y, data, bold=every)
    ax.set_xlabel(f"{metric_label(metric)} (mean over years)")
    ax.set_ylabel("Annual total cost ($M/yr, mean over years)")
    ax.set_title(f"Each size across market years {', '.join(map(str, years))}")
    ax.grid(True, alpha=0.4)
    ax.legend(loc="best", fontsize=8)
    save_figure(fig, paths)
    return fig


def plot_marginal_values(
    summary_rows: pd.DataFrame, paths: PathLike | Iterable[PathLike] = ()
) -> Figure:
    """Marginal value of +1 unit of each asset per scenario (bars) next to the asset's
    annualised capex + fixed O&M per unit (dashed line; none for the POI import, which the
    study does not price), $k/yr per unit, one panel per asset.

    ``summary_rows``: rows of the summary to show (one bar each), with the
    ``marginal_value_*`` and ``annualised_cost_*`` columns (a summary without them: the panels
    say so).
    """
    if summary_rows.empty:
        raise ValueError("plot_marginal_values needs at least one scenario row")
    assets = list(columns.MARGINAL_VALUE_UNITS)
    n = len(summary_rows)
    pos = np.arange(n)
    fig = Figure(figsize=(max(8.0, 0.9 * n + 6.0), 2.4 * len(assets)), layout="constrained")
    axes = fig.subplots(len(assets), 1, sharex=True)
    labels = [scenario_label(r, "\n") for _, r in summary_rows.iterrows()]
    for ax, asset in zip(axes, assets, strict=True):
        unit = columns.MARGINAL_VALUE_UNITS[asset]
        col, cost_col = columns.marginal_value_column(asset), columns.unit_cost_column(asset)
        if col in summary_rows:
            v = summary_rows[col].to_numpy(float) / 1e3
            ax.bar(pos, np.nan_to_num(v), 0.6, color="tab:blue", label="marginal value")
        else:
            ax.text(
                0.5,
                0.5,
                "no marginal values in this summary",
                transform=ax.transAxes,
                ha="center",
                va="center",
            )
        priced = cost_col in summary_rows and summary_rows[cost_col].notna().any()
        if priced:
            cost = float(summary_rows[cost_col].dropna().iloc[0]) / 1e3
            ax.axhline(cost, color="tab:red", ls="--", label="annualised cost per unit")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_ylabel(f"$k/yr per {unit}")
        ax.set_title(asset.replace("_", " "), fontsize=9, loc="left")
        ax.grid(True, axis="y", alpha=0.4)
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            title=None if priced else "no capex in the study costs",
            title_fontsize=8,
        )
    axes[-1].set_xticks(pos, labels, fontsize=8)
    fig.suptitle("Marginal value of +1 unit vs its annualised cost")
    save_figure(fig, paths)
    return fig


def _asset_label(row: pd.Series) -> str:
    """Label of one headroom curve: its gas and BESS (the assets a lower limit leans on)."""
    gas = f"{float(row['gen_mw']):g} MW gas" if float(row["gen_units"]) > 0 else "no gas"
    text = f"{gas}, BESS {float(row['bess_mwh']):g} MWh, {float(row['transformer_mva']):g} MVA"
    if "market_year" in row.index and pd.notna(row["market_year"]):
        text += f", {row['market_year']}"
    return text


def plot_headroom(
    summary: pd.DataFrame, dims: list[str], paths: PathLike | Iterable[PathLike] = ()
) -> Figure:
    """Interconnection headroom of one site, one curve per asset set (gid ``headroom_<i>``):

    (a) the Duke-style curve: POI import limit (% of the site's peak load; right axis: load
    that fits per MW of limit) against annual curtailment (% of load energy, symmetric-log
    axis), with the Duke study's 0.25 / 0.5 / 1 % levels and the limit each curve needs there
    (diamonds, gid ``duke_levels``); (b) annual total cost relative to the highest limit
    ($M/yr) and curtailed hours (h/yr, dashed, right axis) against the limit; (c) energy from
    gas and energy curtailed (% of load energy) against the limit: a lower limit is met first
    by gas, then by curtailment. Lower axes: limit in % of peak, MW on top.

    ``summary``: the aggregated summary with the ``dcpower.columns.HEADROOM_COLUMNS`` and the
    ``poi_import_mw`` dimension; ``dims``: its dimensions.
    """

    curves = headroom.curve(summary, dims)
    if not curves:
        raise ValueError("plot_headroom needs scenarios with a dispatch and the poi_import_mw dim")
    share = columns.unserved_share_column("total")
    peak = float(summary["site_peak_load_mw"].max())
    fig = Figure(figsize=(15, 5.2), layout="constrained")
    ax_curve, ax_cost, ax_energy = fig.subplots(1, 3)
    ax_hours = ax_cost.twinx()
    colors = mpl.colormaps["tab10"].colors
    for i, (_, pts) in enumerate(curves.items()):
        color = colors[i % len(colors)]
        label = _asset_label(pts.iloc[0])
        x = pts[share].to_numpy(float)
        y = pts["poi_import_pct_of_peak"].to_numpy(float)
        ax_curve.plot(x, y, "o-", color=color, label=label, gid=f"headroom_{i}")
        levels = list(headroom.DUKE_GW_AT_CURTAILMENT_PCT)
        at = [headroom.limit_at_curtailment(pts, lv) for lv in levels]
        ax_curve.scatter(
            levels, at, marker="D", s=40, color=color, edgecolor="k", zorder=5, gid="duke_levels"
        )
        ax_cost.plot(
            y, pts["cost_vs_highest_limit_usd"].to_numpy(float) / 1e6, "o-", color=color,
            label=label,
        )  # fmt: skip
        ax_hours.plot(y, pts["curtailed_hours"].to_numpy(float), "s--", color=color, alpha=0.7)
        ax_energy.plot(y, pts["gen_pct_of_load"].to_numpy(float), "^-", color=color,
                       label=f"gas — {label}")  # fmt: skip
        ax_energy.plot(y, pts[share].to_numpy(float), "v--", color=color,
                       label=f"curtailed — {label}")  # fmt: skip
    for level, gw in headroom.DUKE_GW_AT_CURTAILMENT_PCT.items():
        ax_curve.axvline(level, color="0.5", ls=":", lw=1)
        ax_curve.annotate(
            f"{level:g} %: Duke {gw:g} GW",
            (level, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, 4),
            textcoords="offset points",
            rotation=90,
            va="bottom",
            fontsize=7,
            color="0.3",
        )
    ax_curve.set_xscale("symlog", linthresh=0.1, linscale=0.5)
    top = max(1.5, float(summary[share].max()) * 1.2)
    ax_curve.set_xlim(0, top)
    ticks = [t for t in (0, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100) if t <= top]
    ax_curve.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax_curve.set_xlabel("Annual curtailment (% of load energy)")
    ax_curve.set_ylabel("POI import limit (% of site peak load)")

    def per_mw(pct: np.ndarray) -> np.ndarray:  # % of peak <-> MW of load per MW of limit
        return 100.0 / np.maximum(pct, 1e-9)

    ax_curve.secondary_yaxis("right", functions=(per_mw, per_mw)).set_ylabel(
        "Load that fits per MW of import limit (MW/MW)"
    )
    ax_curve.set_title("(a) How much load fits at x % curtailment", fontsize=10)
    ax_curve.legend(loc="upper right", fontsize=7)
    fig.supxlabel(
        "Dotted lines: GW of new load the 22 largest US balancing authorities could integrate "
        f"at that annual curtailment, {headroom.DUKE_CITATION}",
        fontsize=8,
        color="0.3",
    )
    ax_cost.axhline(0.0, color="k", lw=0.8)
    # symmetric log: shedding critical load at the lowest limits costs 1000× what gas or
    # flexible curtailment cost near the peak; both must stay readable
    ax_cost.set_yscale("symlog", linthresh=0.1)
    ax_cost.set_ylabel("Annual total cost vs highest limit ($M/yr, symlog)")
    ax_hours.set_ylabel("Curtailed hours (h/yr, dashed)")
    ax_cost.set_title("(b) Cost and curtailed hours", fontsize=10)
    ax_cost.legend(loc="upper left", fontsize=7)
    ax_energy.set_ylabel("% of annual load energy")
    ax_energy.set_title("(c) Gas first, then curtailment", fontsize=10)
    ax_energy.legend(loc="upper left", fontsize=7)
    for ax in (ax_cost, ax_energy):
        ax.set_xlabel("POI import limit (% of site peak load)")
        ax.invert_xaxis()
        ax.secondary_xaxis(
            "top", functions=(lambda p: p * peak / 100.0, lambda mw: 100.0 * mw / peak)
        ).set_xlabel("POI import limit (MW)")
        ax.grid(True, alpha=0.4)
    ax_curve.grid(True, alpha=0.4)
    fig.suptitle(f"Interconnection headroom of the site (peak load {peak:g} MW)")
    save_figure(fig, paths)
    return fig
