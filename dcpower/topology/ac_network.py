"""The site one-line as a pandapower net, solved as an AC power flow at many operating points.

One-line (pandapower elements)::

    source ──[grid Thevenin impedance]── POI (HV) ──[main transformer]── site bus (MV)
    ext_grid, 1.0 pu                                                    PCS, gas units (sgen), load

pandapower's ``ext_grid`` is an ideal slack in a power flow (its short-circuit MVA and R/X enter
only short-circuit studies), so the grid's strength is the explicit ``impedance`` between the
source and the POI: |Z| = S_base / S_sc pu, split by X/R. The transformer is pandapower's
two-winding model from its rating, short-circuit impedance % and X/R (no iron losses, magnetising
current or taps: nominal ratio, no on-load tap changer). Everything on the site bus is one bus,
so an operating point is the site bus's net injection P + jQ.

Speed: pandapower builds the admittance matrix once (``runpp`` at the first point); the many
points of a year are then solved together by a vectorised Newton–Raphson on that matrix
(``solve_points``): 25,000 points in under a second, against ~12 ms for one ``runpp``.
``runpp_point`` runs pandapower's own ``runpp`` at one point; the screening cross-checks the
batch against it at its worst point, and the tests at many.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from types import ModuleType

import numpy as np

#: nominal voltages, kV: 138 kV transmission (common ERCOT interconnection voltage) and a 34.5 kV
#: site bus. Results are per unit, which these do not change (they set only currents in kA).
HV_NOMINAL_KV = 138.0
MV_NOMINAL_KV = 34.5
#: per-unit base of the net, MVA
BASE_MVA = 100.0
#: Newton–Raphson stop: largest bus power mismatch, pu of BASE_MVA (1e-8 pu = 1 W)
NR_TOLERANCE_PU = 1e-8
NR_MAX_ITERATIONS = 30


@dataclass(frozen=True)
class SiteParameters:
    """Electrical data of the one-line (from the case: ``poi`` and ``transformer``)."""

    short_circuit_mva: float
    grid_x_over_r: float
    transformer_rating_mva: float
    transformer_impedance_pct: float
    transformer_x_over_r: float


@dataclass(frozen=True)
class AcPoints:
    """AC solution at N points; NaN where Newton–Raphson did not converge (no AC solution:
    the point is beyond the voltage-collapse nose of this grid)."""

    poi_voltage_pu: np.ndarray
    mv_voltage_pu: np.ndarray
    transformer_loading_pct: np.ndarray  # pandapower's current-based loading (trafo_loading)
    transformer_losses_mw: np.ndarray
    poi_p_mw: np.ndarray  # into the site at the POI (transformer HV terminal), MW
    poi_q_mvar: np.ndarray
    converged: np.ndarray  # bool


def _split(z_pu: float, x_over_r: float) -> tuple[float, float]:
    """(R, X) of an impedance of magnitude ``z_pu`` and ratio X/R."""
    r = z_pu / math.sqrt(1.0 + x_over_r**2)
    return r, r * x_over_r


def grid_impedance_pu(short_circuit_mva: float, x_over_r: float) -> tuple[float, float]:
    """(R, X) of the grid's Thevenin impedance, pu on ``BASE_MVA``: |Z| = S_base / S_sc."""
    return _split(BASE_MVA / short_circuit_mva, x_over_r)


def transformer_impedance_pu(
    rating_mva: float, impedance_pct: float, x_over_r: float
) -> tuple[float, float]:
    """(R, X) of the transformer, pu on ``BASE_MVA``: |Z| = z% / 100 · S_base / S_rated."""
    return _split(impedance_pct / 100.0 * BASE_MVA / rating_mva, x_over_r)


def _pandapower() -> ModuleType:
    """pandapower, imported on the first one-line built: the import costs ~1.4 s CPU (it loads
    scipy, matplotlib and networkx), which every ``dcpower`` command that solves nothing, and
    every CLI start, would otherwise pay. Not a cycle: pandapower imports nothing of dcpower."""
    import pandapower

    return pandapower


class SiteNet:
    """The one-line built once; ``solve_points`` and ``runpp_point`` solve it at given points."""

    def __init__(self, params: SiteParameters):
        self.params = params
        self._pp = pp = _pandapower()
        net = pp.create_empty_network(sn_mva=BASE_MVA)
        self.source = pp.create_bus(net, HV_NOMINAL_KV, name="grid source")
        self.poi = pp.create_bus(net, HV_NOMINAL_KV, name="POI")
        self.mv = pp.create_bus(net, MV_NOMINAL_KV, name="site bus")
        pp.create_ext_grid(
            net,
            self.source,
            vm_pu=1.0,
            s_sc_max_mva=params.short_circuit_mva,
            rx_max=1.0 / params.grid_x_over_r,
        )
        r_g, x_g = grid_impedance_pu(params.short_circuit_mva, params.grid_x_over_r)
        pp.create_impedance(
            net, self.source, self.poi, rft_pu=r_g, xft_pu=x_g, sn_mva=BASE_MVA, name="grid"
        )
        vk = params.transformer_impedance_pct
        self.trafo = pp.create_transformer_from_parameters(
            net,
            self.poi,
            self.mv,
            sn_mva=params.transformer_rating_mva,
            vn_hv_kv=HV_NOMINAL_KV,
            vn_lv_kv=MV_NOMINAL_KV,
            vkr_percent=vk / math.sqrt(1.0 + params.transformer_x_over_r**2),
            vk_percent=vk,
            pfe_kw=0.0,
            i0_percent=0.0,
            name="main transformer",
        )
        # the site's net injection at the MV bus (sources − load), set per point
        self.site = pp.create_sgen(net, self.mv, p_mw=0.0, q_mvar=0.0, name="site net injection")
        self.net = net
        self._runpp()  # builds the admittance matrix (pandapower's internal ppc)
        lookup = net._pd2ppc_lookups
        self._bus = {b: int(lookup["bus"][b]) for b in (self.source, self.poi, self.mv)}
        internal = net._ppc["internal"]
        self._ybus = np.asarray(internal["Ybus"].toarray(), dtype=complex)
        start, _ = lookup["branch"]["trafo"]
        self._yf = np.asarray(internal["Yf"][start].toarray(), dtype=complex).ravel()
        self._yt = np.asarray(internal["Yt"][start].toarray(), dtype=complex).ravel()
        branch = internal["branch"]
        self._f = int(branch[start, 0].real)
        self._t = int(branch[start, 1].real)
        if {self._f, self._t} != {self._bus[self.poi], self._bus[self.mv]}:
            raise RuntimeError("pandapower's branch order is not the one expected")
        self._hv_is_from = self._f == self._bus[self.poi]

    def _runpp(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba is optional; the net is 3 buses
            logging.getLogger("pandapower").setLevel(logging.ERROR)
            self._pp.runpp(self.net, numba=False, init="flat", tolerance_mva=1e-10)

    def runpp_point(self, p_mw: float, q_mvar: float) -> AcPoints:
        """pandapower's ``runpp`` at one point (site bus net injection ``p_mw`` + j``q_mvar``)."""
        self.net.sgen.at[self.site, "p_mw"] = p_mw
        self.net.sgen.at[self.site, "q_mvar"] = q_mvar
        try:
            self._runpp()
        except self._pp.LoadflowNotConverged:
            nan = np.array([np.nan])
            return AcPoints(nan, nan, nan, nan, nan, nan, np.array([False]))
        bus, tr = self.net.res_bus, self.net.res_trafo.loc[self.trafo]
        return AcPoints(
            poi_voltage_pu=np.array([bus.at[self.poi, "vm_pu"]]),
            mv_voltage_pu=np.array([bus.at[self.mv, "vm_pu"]]),
            transformer_loading_pct=np.array([tr["loading_percent"]]),
            transformer_losses_mw=np.array([tr["pl_mw"]]),
            poi_p_mw=np.array([tr["p_hv_mw"]]),
            poi_q_mvar=np.array([tr["q_hv_mvar"]]),
            converged=np.array([True]),
        )

    def solve_points(self, p_mw: np.ndarray, q_mvar: np.ndarray) -> AcPoints:
        """AC power flow at every point (site bus net injection ``p_mw`` + j``q_mvar``, MW and
        MVAr, arrays of one length): polar Newton–Raphson on pandapower's admittance matrix,
        all points at once, flat start."""
        p = np.asarray(p_mw, float).ravel()
        q = np.asarray(q_mvar, float).ravel()
        n_pts, ybus = p.size, self._ybus
        n_bus = ybus.shape[0]
        slack = self._bus[self.source]
        pq = np.array([i for i in range(n_bus) if i != slack])
        s_spec = np.zeros((n_pts, n_bus), complex)
        s_spec[:, self._bus[self.mv]] = (p + 1j * q) / BASE_MVA
        vm = np.ones((n_pts, n_bus))
        va = np.zeros((n_pts, n_bus))
        converged = np.zeros(n_pts, bool)
        m = pq.size
        for _ in range(NR_MAX_ITERATIONS):
            v = vm * np.exp(1j * va)
            current = v @ ybus.T
            mis = v * current.conj() - s_spec
            f = np.concatenate([mis[:, pq].real, mis[:, pq].imag], axis=1)
            converged = np.abs(f).max(axis=1) < NR_TOLERANCE_PU
            todo = ~converged & np.isfinite(f).all(axis=1)
            if not todo.any():
                break
            vt, it = v[todo], current[todo]
            vnorm = vt / np.abs(vt)
            diag_i = np.einsum("ki,ij->kij", it.conj(), np.eye(n_bus))
            # dS/dVm = diag(V)·conj(Y·diag(Vnorm)) + conj(diag(I))·diag(Vnorm)
            ds_dvm = vt[:, :, None] * (ybus.conj()[None] * vnorm.conj()[:, None, :]) + (
                diag_i * vnorm[:, None, :]
            )
            # dS/dVa = j·diag(V)·conj(diag(I) − Y·diag(V))
            ds_dva = 1j * vt[:, :, None] * (diag_i - ybus.conj()[None] * vt.conj()[:, None, :])
            sub = np.ix_(np.arange(vt.shape[0]), pq, pq)
            jac = np.empty((vt.shape[0], 2 * m, 2 * m))
            jac[:, :m, :m] = ds_dva[sub].real
            jac[:, :m, m:] = ds_dvm[sub].real
            jac[:, m:, :m] = ds_dva[sub].imag
            jac[:, m:, m:] = ds_dvm[sub].imag
            try:
                dx = np.linalg.solve(jac, -f[todo][:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                break
            va_t, vm_t = va[todo], vm[todo]
            va_t[:, pq] += dx[:, :m]
            vm_t[:, pq] += dx[:, m:]
            va[todo], vm[todo] = va_t, vm_t
        v = vm * np.exp(1j * va)
        converged &= (vm[:, pq] > 0.2).all(axis=1)  # the low-voltage root is not an answer
        s_f = v[:, self._f] * (v @ self._yf).conj()
        s_t = v[:, self._t] * (v @ self._yt).conj()
        i_f = np.abs(s_f) / vm[:, self._f]
        i_t = np.abs(s_t) / vm[:, self._t]
        loading = 100.0 * np.maximum(i_f, i_t) * BASE_MVA / self.params.transformer_rating_mva
        s_hv = s_f if self._hv_is_from else s_t

        def ok(x: np.ndarray) -> np.ndarray:
            return np.where(converged, x, np.nan)

        return AcPoints(
            poi_voltage_pu=ok(vm[:, self._bus[self.poi]]),
            mv_voltage_pu=ok(vm[:, self._bus[self.mv]]),
            transformer_loading_pct=ok(loading),
            transformer_losses_mw=ok((s_f + s_t).real * BASE_MVA),
            poi_p_mw=ok(s_hv.real * BASE_MVA),
            poi_q_mvar=ok(s_hv.imag * BASE_MVA),
            converged=converged,
        )
