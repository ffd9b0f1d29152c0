"""KASCADE simulator: KCDC-like event tables (and per-station arrays) from H3a primaries.

What one call does (all vectorised, chunk by chunk):

1. *Throw* primaries: species and total energy from the H3a flux (``crflux`` through
   :class:`~dlclab.simulate.primaries.PrimaryFlux`, 1e14 .. 1e18 eV), isotropic
   directions through a horizontal plane (uniform in cos^2 Ze) for 0 .. 60 deg, cores
   uniform on the 200 m x 200 m array.
2. True shower sizes Ne, Nmu and age at ground (:mod:`~dlclab.simulate.kascade_physics`):
   QGSJet parametrisation, superposition for nuclei, zenith attenuation, log-normal
   shower-to-shower fluctuations.
3. *Record*: trigger with a probability rising with true lg Ne; reconstruct core,
   direction, sizes and age with resolutions; keep events whose reconstructed core lies
   in the KCDC range |Xc|, |Yc| <= 91 m and reconstructed Ze <= 60 deg. The reconstructed energy ``E`` is an estimate
   from reconstructed Ne and Nmu (composition-independent combination), not the truth.
4. Stop at exactly ``events`` recorded events. The number of primaries *thrown* until
   then fixes the equivalent live time ``T = thrown / (flux integral x area x pi sin^2 Ze_max)``,
   so the :class:`Exposure` (area, live time, zenith range, thrown spectrum per species)
   gives absolute fluxes.
5. Times: the recorded events are a random ``T / T_all`` fraction of the full run list
   (:func:`dlclab.simulate.runs.kascade_runs`); times are placed as a Poisson process on
   the runs' live periods, event numbers ``Ev`` count all events of the run (the
   skipped ones included, as in KCDC's 1/400 samples: Poisson counts in between); T and P per run with seasonal
   and daily swings; UUIDs from :func:`dlclab.identity.event_uuid`.
6. GRANDE and CALORIMETER components, true quantities (``truth`` component) and,
   with ``with_arrays=True``, per-station deposits and arrival times on the real grid.

The throw uses independent random streams per chunk (``SeedSequence([seed, chunk])``),
processed by two threads, so a seed gives the same events whatever the machine does.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dlclab.identity import event_uuid, start_event_uuid_strings, uuid_ascii_to_arrow
from dlclab.simulate import kascade_physics as phys
from dlclab.simulate.primaries import SPECIES, PrimaryFlux
from dlclab.simulate.runs import kascade_runs, place_times
from dlclab.units import EV_PER_GEV

if TYPE_CHECKING:  # pragma: no cover
    import awkward as ak

    from dlclab.formats.kcdc.model import KcdcExport

__all__ = ["KascadeConfig", "Exposure", "KascadeSimulation", "simulate_kascade", "event_uuid"]

EXPERIMENT = "KASCADE"
#: primaries thrown per chunk (one random stream each). Arrays of 32768 doubles (256 kB)
#: are recycled by malloc between chunks; 8x larger ones are returned to the system and
#: page-faulted back in every chunk, which cost a third of the CPU time.
CHUNK_THROWN = 32_768
#: X0 / (Lambda_e ln 10): the zenith attenuation of lg Ne is -_K_E (sec Ze - 1)
_K_E = phys.VERTICAL_DEPTH_G_CM2 / phys.LAMBDA_E_G_CM2 / phys.LN10
#: chunks handed to the thread pool at once
CHUNKS_PER_BATCH = 16


@dataclass(frozen=True)
class KascadeConfig:
    """What is thrown. Energies in eV, angles in degrees, lengths in metres."""

    energy_min_eV: float = 1e14
    energy_max_eV: float = 1e18
    zenith_max_deg: float = 60.0
    #: cores are thrown uniformly on a square of this half-width (the 200 m x 200 m array)
    throw_half_width_m: float = 100.0
    #: recorded events have a reconstructed core within this half-width (KCDC Xc, Yc range)
    fiducial_half_width_m: float = 91.0
    flux_model: str = "H3a"


@dataclass
class Exposure:
    """What an absolute flux needs: Phi(E) = N(E) / (eff(E) x area x live time x Omega_proj).

    ``acceptance_m2_sr`` is area x pi (sin^2 Ze_max - sin^2 Ze_min), the projected solid
    angle of a horizontal detector. ``thrown_counts`` (per species, on ``lg_energy_edges``)
    are the primaries thrown; with the recorded truth they give eff(E) exactly.
    """

    area_m2: float
    live_time_s: float
    zenith_min_deg: float
    zenith_max_deg: float
    energy_min_eV: float
    energy_max_eV: float
    flux_model: str
    thrown_events: int
    recorded_events: int
    lg_energy_edges: list[float] = field(default_factory=list)
    thrown_counts: dict[str, list[int]] = field(default_factory=dict)

    @property
    def solid_angle_sr(self) -> float:
        """Plain solid angle of the zenith band, sr."""
        return 2 * math.pi * (math.cos(math.radians(self.zenith_min_deg))
                              - math.cos(math.radians(self.zenith_max_deg)))

    @property
    def acceptance_m2_sr(self) -> float:
        """Area times projected solid angle, m^2 sr."""
        return self.area_m2 * math.pi * (math.sin(math.radians(self.zenith_max_deg)) ** 2
                                         - math.sin(math.radians(self.zenith_min_deg)) ** 2)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["solid_angle_sr"] = self.solid_angle_sr
        d["acceptance_m2_sr"] = self.acceptance_m2_sr
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Exposure:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class KascadeSimulation:
    """A simulated KCDC data set: one DataFrame per component (shared row order, KCDC
    quantity names, linear values: E in eV), optional per-station arrays, the exposure."""

    general: pd.DataFrame
    array: pd.DataFrame
    grande: pd.DataFrame
    calorimeter: pd.DataFrame
    truth: pd.DataFrame
    exposure: Exposure
    seed: int
    config: KascadeConfig
    #: one record list per event: StationId, EDeposit (MeV), MDeposit (MeV), Arrival (ns)
    stations: ak.Array | None = None

    @property
    def components(self) -> dict[str, pd.DataFrame]:
        return {"general": self.general, "array": self.array, "grande": self.grande,
                "calorimeter": self.calorimeter, "truth": self.truth}

    def __len__(self) -> int:
        return len(self.general)

    def to_export(self, release: str = "SIMULATION", data_set: str | None = None) -> KcdcExport:
        """This simulation as a KCDC export (a simulation data set, true quantities included)."""
        from dlclab.formats.kcdc.model import ExportInfo, KcdcExport

        info = ExportInfo(
            release=release,
            data_set=data_set or default_data_set_name(self.stations is not None),
            simulation=True,
            exposure=self.exposure.to_dict(),
            generator={"program": "dlclab.simulate.kascade", "seed": self.seed,
                       "config": asdict(self.config)},
        )
        return KcdcExport(tables=dict(self.components), stations=self.stations, info=info)


def default_data_set_name(with_arrays: bool) -> str:
    """KCDC-style name of a simulated data set (``_wA_`` with arrays, ``_nA_`` without)."""
    return f"KASCADE_SimulationData_{'wA' if with_arrays else 'nA'}_runs_0877-7417"


class _SpeciesEnergySampler:
    """Species and lg E of H3a primaries, the same distribution as
    :meth:`PrimaryFlux.sample` but several times faster for hundreds of millions.

    Species by their integral share; lg E by inverse CDF tabulated on a regular grid of
    x = -lg(1 - u): for a power law lg E is nearly linear in x, so linear interpolation
    between 4096 grid points is exact to ~1e-5 in lg E, tails included, and the lookup is
    index arithmetic instead of a binary search.
    """

    GRID = 4096

    def __init__(self, flux: PrimaryFlux, points: int = 8001) -> None:
        lg = np.linspace(math.log10(flux.energy_min_eV), math.log10(flux.energy_max_eV), points)
        self.lg_min, self.lg_max = float(lg[0]), float(lg[-1])
        self.ids = np.array(sorted(SPECIES), dtype=np.int32)
        self.mass = np.array([SPECIES[int(i)][1] for i in self.ids], dtype=np.float64)
        self.lg_mass = np.log10(self.mass)
        self.inv_mass_02 = self.mass ** -0.2
        self.lg_ne_const = (phys.LG_NE_OFFSET - 9.0 * phys.LG_NE_SLOPE
                            + (1.0 - phys.LG_NE_SLOPE) * self.lg_mass + _K_E)
        # CORSIKA particle ids, 100 A + Z (14 for protons): crflux names its iron group
        # 5426, CORSIKA's 56Fe is 5626
        a_z = [SPECIES[int(i)][1:] for i in self.ids]
        self.corsika_ids = np.array([14 if a == 1 else 100 * a + z for a, z in a_z], dtype=np.int32)
        totals, tables, scales = [], [], []
        for cid in self.ids:
            integrand = flux.flux_per_eV(10.0 ** lg, int(cid)) * 10.0 ** lg * np.log(10.0)
            cum = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(lg))])
            totals.append(cum[-1])
            cdf = cum / cum[-1]
            x_max = -math.log10(1.0 - cdf[-2])
            x = np.linspace(0.0, x_max, self.GRID)
            tables.append(np.interp(1.0 - 10.0 ** -x, cdf, lg))
            scales.append((self.GRID - 1) / x_max)
        self.tables = np.vstack(tables)
        self.scales = np.array(scales)
        self.totals = np.array(totals)
        self.total = float(self.totals.sum())  # m^-2 s^-1 sr^-1
        self._share_edges = np.cumsum(self.totals / self.total)[:-1]

    def sample(self, n: int, rng: np.random.Generator) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        species = np.searchsorted(self._share_edges, rng.random(n), side="right")
        x = -np.log10(1.0 - rng.random(n)) * self.scales[species]
        j = np.minimum(x.astype(np.int64), self.GRID - 2)
        frac = np.minimum(x - j, 1.0)
        flat = self.tables.ravel()
        base = species * self.GRID + j
        lo = flat[base]
        lg_e = lo + frac * (flat[base + 1] - lo)
        return species, lg_e


@dataclass
class _Chunk:
    thrown: int
    thrown_index: NDArray[np.int64]  # index within the chunk of each recorded event
    counts: NDArray[np.int64]  # thrown per (species, lg E bin), whole chunk
    keys: NDArray[np.int16] | None  # (species, bin) key of every thrown primary
    recorded: dict[str, NDArray]


def _throw_chunk(seed: int, chunk: int, n: int, cfg: KascadeConfig,
                 sampler: _SpeciesEnergySampler, bins: int) -> _Chunk:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, chunk])))
    species, lg_e = sampler.sample(n, rng)
    c2_min = math.cos(math.radians(cfg.zenith_max_deg)) ** 2
    cos_z = np.sqrt(rng.uniform(c2_min, 1.0, n))
    # true lg Ne at ground: kascade_physics.mean_lg_ne, rearranged as
    # c[species] + b_e lg E - k_e / cos Ze because this line runs for every thrown primary
    lg_ne = sampler.lg_ne_const[species] + phys.LG_NE_SLOPE * lg_e - _K_E / cos_z
    # kascade_physics.sigma_lg_ne, likewise on a per-species table of A^-0.2
    lg_ne += np.maximum(0.04, (0.20 - 0.03 * (lg_e - 14.0)) * sampler.inv_mass_02[species]) \
        * rng.standard_normal(n)
    # trigger with probability Phi((lg Ne - t50) / w), written as a comparison with a normal
    trig = phys.TRIGGER_LG_NE_WIDTH * rng.standard_normal(n) < lg_ne - phys.TRIGGER_LG_NE_50
    keys = (species * bins + np.minimum(((lg_e - sampler.lg_min) / (sampler.lg_max - sampler.lg_min)
                                         * bins).astype(np.int64), bins - 1)).astype(np.int16)
    counts = np.bincount(keys, minlength=len(sampler.ids) * bins)
    idx = np.flatnonzero(trig)
    m = len(idx)
    lg_e_t, sp_t, lg_ne_t = lg_e[idx], species[idx], lg_ne[idx]
    mass_t = sampler.mass[sp_t]
    zen_t = np.rad2deg(np.arccos(cos_z[idx]))
    az_t = rng.uniform(0.0, 360.0, m)
    hw = cfg.throw_half_width_m
    xc_t, yc_t = rng.uniform(-hw, hw, m), rng.uniform(-hw, hw, m)
    lg_nmu_t = (phys.mean_lg_nmu(lg_e_t, mass_t, zen_t)
                + phys.sigma_lg_nmu(lg_e_t, mass_t) * rng.standard_normal(m))
    age_t = np.clip(phys.mean_age(lg_e_t, mass_t, zen_t) + 0.06 * rng.standard_normal(m), 0.1, 1.48)

    # reconstructed core: recorded if it falls in the KCDC core range
    s_core = phys.core_resolution_m(lg_ne_t)
    xc_r = xc_t + s_core * rng.standard_normal(m)
    yc_r = yc_t + s_core * rng.standard_normal(m)
    ze_r, az_r = _reconstruct_direction(zen_t, az_t, phys.direction_resolution_deg(lg_ne_t), rng)
    keep = ((np.abs(xc_r) <= cfg.fiducial_half_width_m) & (np.abs(yc_r) <= cfg.fiducial_half_width_m)
            & (ze_r <= cfg.zenith_max_deg))
    k = np.flatnonzero(keep)
    r = {
        "lg_e": lg_e_t[k], "species": sp_t[k], "mass": mass_t[k], "zenith": zen_t[k], "azimuth": az_t[k],
        "xc": xc_t[k], "yc": yc_t[k], "lg_ne": lg_ne_t[k], "lg_nmu": lg_nmu_t[k], "age": age_t[k],
        "xc_r": xc_r[k], "yc_r": yc_r[k], "ze_r": ze_r[k], "az_r": az_r[k],
    }
    return _Chunk(thrown=n, thrown_index=idx[k], counts=counts, keys=keys, recorded=r)


def _reconstruct_direction(zenith: NDArray, azimuth: NDArray, sigma_deg: NDArray,
                           rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    """Smear a direction by a 2-D Gaussian of width sigma on the sphere (small angles)."""
    n = len(zenith)
    ze = zenith + sigma_deg * rng.standard_normal(n)
    sin_z = np.maximum(np.sin(np.deg2rad(np.abs(ze))), 1e-3)
    az = azimuth + np.clip(sigma_deg / sin_z, 0, 180) * rng.standard_normal(n)
    flip = ze < 0  # crossing the zenith: mirror to the other azimuth
    ze = np.abs(ze)
    az = np.where(flip, az + 180.0, az) % 360.0
    return ze, az


def _weather(gt_s: NDArray[np.int64], run_index: NDArray[np.int64], n_runs: int,
             rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    """Air temperature (deg C) and pressure (hPa): seasonal and daily swings, a weather
    offset per run, small noise per event."""
    days = (gt_s % (365.2425 * 86400)) / 86400.0
    hours = (gt_s % 86400) / 3600.0
    run_t = rng.normal(0.0, 4.0, n_runs)[run_index]
    run_p = rng.normal(0.0, 8.0, n_runs)[run_index]
    n = len(gt_s)
    temp = (10.0 - 9.0 * np.cos(2 * np.pi * (days - 15.0) / 365.2425)
            - 4.0 * np.cos(2 * np.pi * (hours - 3.0) / 24.0) + run_t + 0.3 * rng.standard_normal(n))
    pres = 1008.0 + run_p + 0.5 * rng.standard_normal(n)
    return np.clip(temp, -20, 50).astype(np.float32), np.clip(pres, 960, 1040).astype(np.float32)


def simulate_kascade(events: int, seed: int = 0, *, with_arrays: bool = False,
                     config: KascadeConfig | None = None,
                     progress: Callable[[int], None] | None = None,
                     threads: int = 2) -> KascadeSimulation:
    """Simulate exactly ``events`` recorded KASCADE events (see the module docstring).

    ``progress`` is called with the number of newly recorded events as chunks finish
    (for a tqdm bar); ``with_arrays`` adds per-station arrays (keep ``events`` small:
    about 1 ms per event).
    """
    if events < 1:
        raise ValueError(f"events must be >= 1, got {events}")
    cfg = config or KascadeConfig()
    flux = PrimaryFlux(cfg.energy_min_eV, cfg.energy_max_eV, model=cfg.flux_model)
    sampler = _SpeciesEnergySampler(flux)
    chunk_size = int(min(CHUNK_THROWN, max(20_000, 8 * events)))
    lg_span = math.log10(cfg.energy_max_eV) - math.log10(cfg.energy_min_eV)
    bins = max(1, int(round(lg_span / 0.05)))
    edges = np.linspace(math.log10(cfg.energy_min_eV), math.log10(cfg.energy_max_eV), bins + 1)

    chunks: list[_Chunk] = []
    recorded = 0
    next_chunk = 0
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        while recorded < events:
            batch = list(pool.map(lambda c: _throw_chunk(seed, c, chunk_size, cfg, sampler, bins),
                                  range(next_chunk, next_chunk + CHUNKS_PER_BATCH)))
            next_chunk += len(batch)
            for ch in batch:
                if recorded >= events:
                    break
                take = min(len(ch.thrown_index), events - recorded)
                if chunks:
                    chunks[-1].keys = None  # only the last chunk's keys are needed
                chunks.append(ch)
                recorded += take
                if progress:
                    progress(take)
            if next_chunk > 1_000_000:
                raise RuntimeError("the trigger records almost nothing: check the configuration")

    # the last chunk counts thrown primaries up to (and including) the last recorded one
    last = chunks[-1]
    need_last = events - sum(len(c.thrown_index) for c in chunks[:-1])
    thrown_last = int(last.thrown_index[need_last - 1]) + 1
    thrown = sum(c.thrown for c in chunks[:-1]) + thrown_last
    counts = sum((c.counts for c in chunks[:-1]), np.zeros(len(sampler.ids) * bins, dtype=np.int64))
    counts = (counts + np.bincount(last.keys[:thrown_last], minlength=len(counts))).reshape(len(sampler.ids), bins)

    def cat(key: str) -> NDArray:
        parts = [c.recorded[key] for c in chunks[:-1]] + [last.recorded[key][:need_last]]
        return np.concatenate(parts)

    rec = {key: cat(key) for key in last.recorded}
    del chunks, last

    area = (2 * cfg.throw_half_width_m) ** 2
    rate_thrown = sampler.total * area * math.pi * math.sin(math.radians(cfg.zenith_max_deg)) ** 2
    live_time = thrown / rate_thrown
    exposure = Exposure(
        area_m2=area, live_time_s=live_time, zenith_min_deg=0.0, zenith_max_deg=cfg.zenith_max_deg,
        energy_min_eV=cfg.energy_min_eV, energy_max_eV=cfg.energy_max_eV,
        flux_model=flux.model_name, thrown_events=int(thrown), recorded_events=int(events),
        lg_energy_edges=[round(float(e), 6) for e in edges],
        thrown_counts={SPECIES[int(cid)][0]: counts[k].tolist() for k, cid in enumerate(sampler.ids)},
    )
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 2**31 - 1])))
    sim = _assemble(rec, exposure, cfg, sampler, rng, seed)
    if with_arrays:
        from dlclab.simulate.kascade_stations import simulate_stations

        sim.stations = simulate_stations(sim.truth, sim.array, rng)
    return sim


def _assemble(rec: dict[str, NDArray], exposure: Exposure, cfg: KascadeConfig,
              sampler: _SpeciesEnergySampler, rng: np.random.Generator, seed: int) -> KascadeSimulation:
    n = len(rec["lg_e"])
    ne_true = 10.0 ** rec["lg_ne"]
    nmu_true = 10.0 ** rec["lg_nmu"]

    # --- reconstruction of the array component
    ze_r, az_r = rec["ze_r"], rec["az_r"]
    lg_ne_r = rec["lg_ne"] + phys.ne_resolution_lg(ne_true) * rng.standard_normal(n)
    lg_nmu_r = rec["lg_nmu"] + phys.nmu_resolution_lg(nmu_true) * rng.standard_normal(n)
    lg_e_r = phys.estimate_lg_energy_eV(lg_ne_r, lg_nmu_r, ze_r)
    age_r = np.clip(rec["age"] + 0.08 * rng.standard_normal(n), 0.1, 1.48)
    array = pd.DataFrame({
        "E": 10.0 ** lg_e_r, "Xc": rec["xc_r"], "Yc": rec["yc_r"], "Ze": ze_r, "Az": az_r,
        "Ne": 10.0 ** lg_ne_r, "Nmu": 10.0 ** lg_nmu_r, "Age": age_r,
    }, copy=False)

    # --- times, runs, event numbers
    runs = kascade_runs()
    total_live = float(runs["live_s"].sum())
    fraction = exposure.live_time_s / total_live
    if fraction > 1.0:
        raise ValueError(
            f"{n} events need {exposure.live_time_s:.3g} s of live time, more than the "
            f"{total_live:.3g} s of all KASCADE runs; ask for at most "
            f"{int(n / fraction):,} events")
    placed = place_times(runs["start_s"].to_numpy(), runs["live_s"].to_numpy(), n, rng)
    run_no = runs["run"].to_numpy()[placed.period].astype(np.int32)
    # Ev counts every event of the full run, the skipped ones too: between two kept events
    # (or since the run start) Poisson(rate (1 - fraction) dt) skipped ones, restart per run
    rate_hz = n / exposure.live_time_s
    t_in_run_ns = ((placed.unix_s - runs["start_s"].to_numpy()[placed.period]) * 1_000_000_000
                   + placed.ns)
    first_of_run = np.concatenate([[True], placed.period[1:] != placed.period[:-1]])
    dt_s = np.where(first_of_run, t_in_run_ns, np.diff(t_in_run_ns, prepend=0)) / 1e9
    gaps = 1 + rng.poisson(rate_hz * (1.0 - fraction) * dt_s)
    csum = np.cumsum(gaps)
    base = np.maximum.accumulate(np.where(first_of_run, csum - gaps, 0))
    ev = np.minimum(csum - base, 4_100_000).astype(np.int32)
    # UUIDs are hashed in two background processes while the other components are built
    uuid_rows = start_event_uuid_strings(EXPERIMENT, run_no, ev, workers=2)
    temp, pres = _weather(placed.unix_s, placed.period, len(runs), rng)

    # --- GRANDE: showers large enough, Ze <= 40 deg; NaN where not reconstructed
    nch_true = ne_true + nmu_true
    g_ok = rng.random(n) < phys.grande_probability(np.log10(nch_true), ze_r)
    g_ze, g_az = _reconstruct_direction(rec["zenith"], rec["azimuth"], np.full(n, 0.8), rng)
    g_ok &= g_ze <= phys.GRANDE_ZENITH_MAX_DEG
    nan = np.where(g_ok, 1.0, np.nan)
    grande = pd.DataFrame({
        "Xc": (rec["xc"] + 6.0 * rng.standard_normal(n)) * nan,
        "Yc": (rec["yc"] + 6.0 * rng.standard_normal(n)) * nan,
        "Ze": g_ze * nan, "Az": g_az * nan,
        "Nch": nch_true * 10.0 ** (0.15 / phys.LN10 * rng.standard_normal(n)) * nan,
        "Nmu": nmu_true * 10.0 ** (0.20 / phys.LN10 * rng.standard_normal(n)) * nan,
        "Age": np.clip(rec["age"] + 0.1 * rng.standard_normal(n), -0.385, 1.488) * nan,
    }, copy=False)

    # --- CALORIMETER: hadrons near the core falling on the 16 m x 20 m central detector
    e_pev = 10.0 ** (rec["lg_e"] - 15.0)
    n_h = (80.0 * e_pev ** 0.75 * rec["mass"] ** -0.25
           * np.exp(-phys.slant_excess_g_cm2(rec["zenith"]) / phys.LAMBDA_HAD_G_CM2))
    r0 = 10.0
    dist = np.hypot(rec["xc"], rec["yc"])
    expected = n_h / (2 * np.pi * r0 ** 2) * np.exp(-dist / r0) * 16.0 * 20.0
    nhad = np.minimum(rng.poisson(np.minimum(expected, 1e4)), 511).astype(np.int32)
    mean_hadron_eV = 200.0 * EV_PER_GEV * e_pev ** 0.2
    ehad = rng.gamma(np.maximum(nhad, 1e-300), mean_hadron_eV) * (nhad > 0)
    calorimeter = pd.DataFrame({"Nhad": nhad, "Ehad": ehad}, copy=False)

    general = pd.DataFrame({
        "T": temp, "P": pres, "Gt": placed.unix_s, "Mt": placed.ns, "R": run_no, "Ev": ev,
        "UUID": pd.Series(uuid_ascii_to_arrow(uuid_rows()), dtype=pd.StringDtype("pyarrow")),
    }, copy=False)
    truth = pd.DataFrame({
        "E_true": 10.0 ** rec["lg_e"], "Ze_true": rec["zenith"], "Az_true": rec["azimuth"],
        "Xc_true": rec["xc"], "Yc_true": rec["yc"], "Ne_true": ne_true, "Nmu_true": nmu_true,
        "Age_true": rec["age"],
        "PrimaryId": sampler.corsika_ids[rec["species"]],
        "A": rec["mass"].astype(np.int32),
    }, copy=False)
    return KascadeSimulation(general=general, array=array, grande=grande, calorimeter=calorimeter,
                             truth=truth, exposure=exposure, seed=seed, config=cfg)
