"""Figures: files written atomically in both formats, frontier highlights, Pareto mask."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from dcpower.pareto import pareto_mask
from dcpower.plots import (
    plot_cost_stack,
    plot_frontier,
    plot_net_value_vs_bess,
    scenario_label,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METRIC = "survival_prob_4h"


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    """8 scenarios (2 BESS × 2 unit counts × 2 transformers) with consistent cost stacks."""
    rows = []
    for i, (bess, units, mva) in enumerate(itertools.product([0, 400], [2, 4], [100, 150])):
        capex = 5e6 + 0.02e6 * bess + 3e6 * units + 0.05e6 * mva
        row = {
            "scenario": f"bess_mwh~{bess}/gen_units~{units}/transformer_mva~{mva}",
            "bess_mwh": bess,
            "gen_units": units,
            "transformer_mva": mva,
            "annualised_capex_usd": capex,
            "fixed_om_usd": 0.1 * capex,
            "energy_export_revenue_usd": 1e6 + 2e3 * bess,
            "reserve_regup_revenue_usd": 0.5e6 + 1e3 * bess,
            "reserve_rrs_revenue_usd": 0.3e6 * units,
            # Scenario 0 imports at net negative prices: a negative cost.
            "energy_import_cost_usd": -1e6 if i == 0 else 20e6 - 0.04e6 * mva,
            "gen_fuel_cost_usd": 2e6 * units,
            "gen_start_cost_usd": 0.1e6 * units,
            "bess_degradation_cost_usd": 500.0 * bess,
            "unserved_critical_cost_usd": 1e6 / units,
            "unserved_noncritical_cost_usd": 0.2e6,
            "flexible_curtailment_cost_usd": 0.1e6,
            "survival_prob_4h": [0.30, 0.32, 0.55, 0.50, 0.62, 0.60, 0.90, 0.97][i],
            "survival_prob_24h": 0.1 * units,
        }
        rev = sum(v for k, v in row.items() if k.endswith("_revenue_usd"))
        op = sum(
            v
            for k, v in row.items()
            if k.endswith("_cost_usd") and k not in ("annualised_capex_usd",)
        )
        row["net_operating_value_usd"] = rev - op
        row["annual_total_cost_usd"] = capex + row["fixed_om_usd"] - row["net_operating_value_usd"]
        rows.append(row)
    df = pd.DataFrame(rows)
    df["pareto"] = pareto_mask(df["annual_total_cost_usd"].to_numpy(), df[METRIC].to_numpy())
    assert 1 <= df["pareto"].sum() < len(df)  # a non-trivial frontier
    return df


def check_files(tmp_path, stem: str) -> None:
    png, svg = tmp_path / f"{stem}.png", tmp_path / "sub" / f"{stem}.svg"
    assert png.stat().st_size > 0 and svg.stat().st_size > 0
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert "<svg" in svg.read_text()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [png.name, svg.name]
    )  # no temporary files left behind


def paths(tmp_path, stem: str):
    return [tmp_path / f"{stem}.png", tmp_path / "sub" / f"{stem}.svg"]


def test_frontier_highlights_pareto_rows(summary, tmp_path):
    fig = plot_frontier(summary, METRIC, paths(tmp_path, "frontier"))
    check_files(tmp_path, "frontier")
    ax = fig.axes[0]
    (highlight,) = [c for c in ax.collections if c.get_gid() == "pareto"]
    (everyone,) = [c for c in ax.collections if c.get_gid() == "all"]
    assert len(highlight.get_offsets()) == int(summary["pareto"].sum())
    assert len(everyone.get_offsets()) == len(summary)
    xs = np.asarray(highlight.get_offsets())[:, 0]
    assert np.all(np.diff(xs) >= 0)  # step line / points in metric order
    assert ax.get_xlabel() == "P(survive 4 h outage)"
    assert ax.get_ylabel() == "Annual total cost ($M/yr)"
    labels = {t.get_text() for t in ax.texts}
    expected = {scenario_label(r) for _, r in summary[summary["pareto"]].iterrows()}
    assert labels == expected
    assert scenario_label(summary.iloc[7]) == "400 MWh · 4 units · 150 MVA"


def test_net_value_panels_per_transformer(summary, tmp_path):
    fig = plot_net_value_vs_bess(summary, paths(tmp_path, "net_value"))
    check_files(tmp_path, "net_value")
    axes = fig.axes
    assert len(axes) == summary["transformer_mva"].nunique()
    assert [len(ax.get_lines()) for ax in axes] == [3, 3]  # 2 unit counts + zero line
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[1])
    legend = axes[-1].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["2 gas units", "4 gas units"]
    # Line values are the summary's net operating value in $M/yr.
    first = axes[0].get_lines()[0]
    sel = summary[(summary["transformer_mva"] == 100) & (summary["gen_units"] == 2)]
    np.testing.assert_allclose(first.get_ydata(), sel["net_operating_value_usd"] / 1e6)


def test_cost_stack_segments_add_up_to_net_total(summary, tmp_path):
    rows = summary.iloc[[0, 3, 7]]
    fig = plot_cost_stack(rows, paths(tmp_path, "stack"))
    check_files(tmp_path, "stack")
    ax = fig.axes[0]
    n_components = 9 + 1 + 2  # costs, export, two reserve products
    assert len(ax.containers) == n_components
    heights = np.array([[p.get_height() for p in c.patches] for c in ax.containers])
    (marker,) = [c for c in ax.collections if c.get_gid() == "net_total"]
    net = np.asarray(marker.get_offsets())[:, 1]
    np.testing.assert_allclose(heights.sum(axis=0), net)
    np.testing.assert_allclose(net, rows["annual_total_cost_usd"] / 1e6)
    # Revenues point down; the negative import cost of row 0 stacks below zero too.
    reserve = [c for c in ax.containers if c.get_label() == "Reserve REGUP"][0]
    assert all(p.get_height() < 0 for p in reserve.patches)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Reserve RRS" in legend and "Net annual total cost" in legend
    with pytest.raises(ValueError):
        plot_cost_stack(rows.iloc[:0], [])


def test_cost_stack_adds_up_with_cp_charge_and_pf_penalty(summary, tmp_path):
    """Every $ term of the summary is a segment: a site paying a CP charge and a PF penalty
    (and real-time deviations) still stacks up to its net annual total cost."""
    rows = summary.iloc[[0, 5]].copy()
    extra = {
        "transmission_cp_charge_usd": 3e6,
        "poi_excess_reactive_cost_usd": 0.4e6,
        "realtime_deviation_cost_usd": 0.2e6,
    }
    for col, usd in extra.items():
        rows[col] = usd
    rows["annual_total_cost_usd"] += sum(extra.values())
    fig = plot_cost_stack(rows, [])
    ax = fig.axes[0]
    heights = np.array([[p.get_height() for p in c.patches] for c in ax.containers])
    np.testing.assert_allclose(heights.sum(axis=0), rows["annual_total_cost_usd"] / 1e6)
    labels = [c.get_label() for c in ax.containers]
    assert "Transmission CP charge" in labels and "POI excess reactive" in labels


def test_bad_suffix_rejected(summary, tmp_path):
    with pytest.raises(ValueError, match=".png or .svg"):
        plot_frontier(summary, METRIC, [tmp_path / "frontier.pdf"])
    assert list(tmp_path.iterdir()) == []


def test_pareto_mask_hand_worked():
    #              A    B    C    D    E    F    G    H     I    J
    cost = [1.0, 2.0, 2.0, 2.0, 3.0, 1.0, 0.5, 4.0, 1.0, np.nan]
    benefit = [0.5, 0.9, 0.9, 0.7, 0.9, 0.5, 0.2, 0.95, 0.4, 1.0]
    # A/F duplicates (both kept); B/C duplicates (kept); D: same cost as B, less benefit;
    # E: costlier than B, same benefit; I: same cost as A, less benefit; J: NaN cost.
    expected = [True, True, True, False, False, True, True, True, False, False]
    np.testing.assert_array_equal(pareto_mask(np.array(cost), np.array(benefit)), expected)


def test_pareto_mask_matches_brute_force():
    rng = np.random.default_rng(3)
    cost = rng.integers(0, 6, 200).astype(float)  # many ties and duplicates
    benefit = rng.integers(0, 6, 200).astype(float)
    le = cost[None, :] <= cost[:, None]
    ge = benefit[None, :] >= benefit[:, None]
    strict = (cost[None, :] < cost[:, None]) | (benefit[None, :] > benefit[:, None])
    brute = ~(le & ge & strict).any(axis=1)
    np.testing.assert_array_equal(pareto_mask(cost, benefit), brute)
    assert pareto_mask(np.array([]), np.array([])).shape == (0,)
    with pytest.raises(ValueError):
        pareto_mask(np.zeros(2), np.zeros(3))


def test_frontier_reliability_axis_is_in_nines_with_the_levels_marked(summary, tmp_path):
    """0.9, 0.99 and 0.999 sit equally spaced on the axis (a linear 0-1 axis would squeeze
    them into its last tenth); the report levels are marked; 0 and 1 are drawn."""
    data = summary.copy()
    data[METRIC] = [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0, 0.0]
    data["annual_total_cost_lower_bound_usd"] = data["annual_total_cost_usd"] - 1e5
    fig = plot_frontier(data, METRIC, [tmp_path / "f.png"], levels=[0.9, 0.99, 0.999])
    ax = fig.axes[0]
    px = [ax.transData.transform((p, 0.0))[0] for p in (0.0, 0.9, 0.99, 0.999, 0.9999)]
    steps = np.diff(px)
    assert steps.min() > 0 and np.allclose(steps, steps[0], rtol=1e-6)
    assert len([ln for ln in ax.lines if ln.get_gid() == "level"]) == 3
    left, right = ax.get_xlim()
    one = ax.transData.transform((1.0, 0.0))[0]
    assert px[0] <= one <= ax.transData.transform((right, 0.0))[0] and left <= 0.0
    assert np.isfinite(one) and one > px[-1]  # a certain survival is right of every finite one
