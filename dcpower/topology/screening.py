"""Post-solve electrical screening: P, Q, S, loading % and PF per element and timestep."""

from __future__ import annotations

import numpy as np


def apparent_power_mva(p_mw: np.ndarray, q_mvar: np.ndarray) -> np.ndarray:
    """S = √(P² + Q²), MVA."""
    return np.hypot(np.asarray(p_mw, float), np.asarray(q_mvar, float))


def power_factor(p_mw: np.ndarray, q_mvar: np.ndarray) -> np.ndarray:
    """|P| / S; 1.0 where S is zero (no flow has no PF problem)."""
    s = apparent_power_mva(p_mw, q_mvar)
    with np.errstate(invalid="ignore", divide="ignore"):
        pf = np.where(s > 1e-9, np.abs(p_mw) / np.where(s > 1e-9, s, 1.0), 1.0)
    return pf


def loading_pct(s_mva: np.ndarray, rating_mva: float) -> np.ndarray:
    """S as % of rating; 0 for a zero rating with zero flow, inf with flow."""
    if rating_mva <= 0:
        return np.where(np.asarray(s_mva) > 1e-9, np.inf, 0.0)
    return 100.0 * np.asarray(s_mva, float) / rating_mva


def screen_element(
    name: str, p_mw: np.ndarray, q_mvar: np.ndarray, rating_mva: float
) -> dict[str, np.ndarray]:
    """Columns ``<name>_p_mw, _q_mvar, _s_mva, _loading_pct`` for one element."""
    s = apparent_power_mva(p_mw, q_mvar)
    return {
        f"{name}_p_mw": np.asarray(p_mw, float),
        f"{name}_q_mvar": np.asarray(q_mvar, float),
        f"{name}_s_mva": s,
        f"{name}_loading_pct": loading_pct(s, rating_mva),
    }
