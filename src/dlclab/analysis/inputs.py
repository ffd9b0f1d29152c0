"""The catalogue readers behind the analyses: the lab's data as an analysis wants them.

Analyses read through the lab's Intake catalogue (``dlclab.catalog()``), like any user;
these functions choose the release, read the tables and record every read in the run's
:class:`~dlclab.provenance.ledger.InputLedger` (``inputs.json``), which ``dlclab run``
turns into the RO-Crate.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dlclab import config
from dlclab.analysis.spectrum import Exposure
from dlclab.errors import ParameterError
# the analyses' notebooks create their ledger as ``inputs.InputLedger(out)``
from dlclab.provenance.ledger import LEDGER, InputLedger, uuid_digest  # noqa: F401
from dlclab.store.layout import DataRoot


def _releases(sub) -> dict[str, dict]:
    """Release summaries (kind, version, datasets with exposure) of a sub-catalogue."""
    cat = sub.read() if hasattr(sub, "read") and not hasattr(sub, "user_parameters") else sub
    return dict(cat.metadata.get("releases", {}))


def _sub(name: str, **params):
    import dlclab

    top = dlclab.catalog()
    entry = getattr(top, name, None) or top[name]
    return entry(**params) if params else entry


def _release_files(root: DataRoot, experiment: str, release: str, table: str) -> list[Path]:
    p = root.release_dir(experiment, release) / table
    return [p] if p.exists() else []


def _choose_release(releases: dict[str, dict], wanted: str | None, kind: str | None, experiment: str) -> str:
    if wanted:
        if wanted not in releases:
            raise ParameterError(f"{experiment} release {wanted!r} is not in the catalogue "
                                 f"(known: {', '.join(sorted(releases)) or 'none'})")
        return wanted
    cands = [r for r, s in releases.items() if kind is None or s.get("kind") == kind]
    if not cands:
        raise ParameterError(f"the catalogue has no {kind or ''} {experiment} release; run `make data`")

    def key(r):
        # newest version first; among equals the fuller release (more events), then the name
        v = releases[r].get("version")
        try:
            v = float(v)
        except (TypeError, ValueError):
            v = 0.0
        n = sum(int((d or {}).get("n_events") or 0) for d in (releases[r].get("datasets") or {}).values())
        return (v, n, r)
    return max(cands, key=key)


def _datasets(sub, release: str) -> dict[str, dict]:
    """{data set: {"n_events", "exposure": {...}}} from the release's ``datasets`` entry (the
    table written with the events, so it always matches them)."""
    table = sub(release=release)["datasets"].read()
    out = {}
    for row in table.to_dict("records"):
        name = row.pop("dataset")
        out[name] = {"n_events": row.get("n_events", 0), "exposure": row}
    return out


def _exposure_of(datasets: dict[str, dict], names=None) -> tuple[Exposure, dict]:
    """Sum the live time of the data sets (same area and zenith band expected)."""
    chosen = [d for n, d in datasets.items() if names is None or n in names]
    exps = [d.get("exposure") or {} for d in chosen if d.get("exposure")]
    if not exps:
        raise ParameterError("the release's data sets carry no exposure (area, live time, zenith range)")
    e0 = exps[0]
    live = float(sum(float(e.get("live_time_s", 0.0)) for e in exps))
    return Exposure(float(e0["area_m2"]), live, float(e0.get("zenith_min_deg", 0.0)),
                    float(e0["zenith_max_deg"])), e0


def data_root() -> DataRoot:
    return DataRoot(config.data_root())


@dataclass
class KascadeSample:
    """KASCADE events with the columns the analyses use (``lg_ne``, ``lg_nmu``,
    ``zenith_deg``, ``azimuth_deg``, ``core_x_m``, ``core_y_m``, ``unix_time_s``, ``uuid``,
    ``energy_eV``; simulations add ``true_energy_eV``, ``true_mass_number``) and the exposure."""

    release: str
    events: pd.DataFrame
    exposure: Exposure
    generator: dict = field(default_factory=dict)

    @property
    def n_thrown(self) -> int:
        return int(self.generator.get("thrown_events", 0))

    @property
    def energy_min_eV(self) -> float:
        return float(self.generator.get("energy_min_eV", 1e14))

    @property
    def energy_max_eV(self) -> float:
        return float(self.generator.get("energy_max_eV", 1e18))

    def thrown_per_bin(self, lg_true_edges) -> np.ndarray:
        """Thrown primaries per true-energy bin: the simulator's thrown histogram, re-binned
        (exact), else the expectation from the generator's flux model."""
        from dlclab.analysis.spectrum import thrown_per_bin_from_model

        edges = self.generator.get("lg_energy_edges")
        counts = self.generator.get("thrown_counts")
        scale = float(self.generator.get("thrown_share", 1.0))
        target = np.asarray(lg_true_edges, dtype=np.float64)
        if edges and counts:
            e = np.asarray(edges, dtype=np.float64)
            total = np.sum([np.asarray(v, dtype=np.float64) for v in counts.values()], axis=0)
            # cumulative thrown at the source edges, interpolated in lg E (fine source bins)
            cum = np.concatenate([[0.0], np.cumsum(total)])
            at = np.interp(target, e, cum)
            return np.diff(at) * scale
        model = str(self.generator.get("flux_model", "H3a")).split()[-1]  # "HillasGaisser2012 H3a"
        return thrown_per_bin_from_model(self.n_thrown, self.energy_min_eV, self.energy_max_eV, target,
                                         model) * scale


def _kascade_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "uuid": df["uuid"].astype(str).to_numpy(),
        "energy_eV": df["energy_eV"].to_numpy(dtype=np.float64),
        "lg_ne": np.log10(df["ne"].to_numpy(dtype=np.float64)),
        "lg_nmu": np.log10(df["nmu"].to_numpy(dtype=np.float64)),
        "zenith_deg": df["zenith_deg"].to_numpy(dtype=np.float64),
        "azimuth_deg": df["azimuth_deg"].to_numpy(dtype=np.float64),
        "core_x_m": df["core_x_m"].to_numpy(dtype=np.float64),
        "core_y_m": df["core_y_m"].to_numpy(dtype=np.float64),
    })
    if "gps_time_s" in df:
        out["unix_time_s"] = df["gps_time_s"].to_numpy(dtype=np.float64) + df.get("mt_ns", 0) * 1e-9
    else:
        t = pd.to_datetime(df["time"], utc=True).dt.as_unit("ns")
        out["unix_time_s"] = t.astype("int64").to_numpy() / 1e9
    for col in ("true_energy_eV", "true_mass_number", "true_zenith_deg"):
        if col in df:
            out[col] = df[col].to_numpy()
    # a stable row order whatever the storage layout: by UUID
    return out.sort_values("uuid", kind="stable").reset_index(drop=True)


def _uuid_half(uuids: pd.Series) -> np.ndarray:
    """0/1 per event from the UUID's last hex digit: an assignment independent of physics."""
    return np.array([int(u.replace("-", "")[-1], 16) % 2 for u in uuids], dtype=int)


def _kascade_plan(release: str | None):
    """(sub-catalogue, releases, measured release, simulation release, split?)."""
    sub = _sub("kcdc")
    releases = _releases(sub.read())
    kinds = {r: s.get("kind") for r, s in releases.items()}
    if release:
        measured = _choose_release(releases, release, None, "KASCADE")
    elif any(k == "measured" for k in kinds.values()):
        measured = _choose_release(releases, None, "measured", "KASCADE")
    else:
        measured = _choose_release(releases, None, None, "KASCADE")
    sims = {r: s for r, s in releases.items() if s.get("kind") == "simulation" and r != measured}
    simulation = _choose_release(sims, None, None, "KASCADE") if sims else measured
    return sub, releases, measured, simulation, simulation == measured


def _largest_dataset(datasets: dict[str, dict], wanted: str | None) -> str:
    if wanted:
        if wanted not in datasets:
            raise ParameterError(f"data set {wanted!r} is not in the release (known: {', '.join(sorted(datasets))})")
        return wanted
    if not datasets:
        raise ParameterError("the release lists no data sets")
    return max(sorted(datasets), key=lambda n: int(datasets[n].get("n_events", 0)))


def kascade_measured(release: str | None = None, ledger: InputLedger | None = None,
                     dataset: str | None = None) -> KascadeSample:
    """The measured KASCADE events of a release (the newest measured one by default).

    When the lab has no separate simulation release, the chosen release's events with an
    odd last UUID digit play the measured data (half the live time) and the even ones the
    simulation (:func:`kascade_simulation`), so calibration and measurement never share
    an event.
    """
    sub, releases, rel, _sim, split = _kascade_plan(release)
    datasets = _datasets(sub, rel)
    # one data set: the releases' data sets are separate samples, each with its own exposure
    name = _largest_dataset(datasets, dataset)
    df = sub(release=rel)["events"].read()
    if "dataset" in df:
        df = df[df["dataset"] == name]
    exposure, _ = _exposure_of(datasets, [name])
    if split:
        df = df[_uuid_half(df["uuid"].astype(str)) == 1]
        exposure = Exposure(exposure.area_m2, exposure.live_time_s * 0.5, exposure.zenith_min_deg,
                            exposure.zenith_max_deg)
    ev = _kascade_frame(df)
    ev = ev.drop(columns=[c for c in ev.columns if c.startswith("true_")])  # measured data carry no truth
    if ledger is not None:
        ledger.record("kascade_measured", catalog_entry="kcdc.events", release=rel, dataset=name,
                      files=_release_files(data_root(), "kascade", rel, "events"), uuids=ev["uuid"],
                      split="odd last UUID digit" if split else None)
    return KascadeSample(rel, ev, exposure)


def kascade_simulation(release: str | None = None, ledger: InputLedger | None = None) -> KascadeSample:
    """Simulated KASCADE events with truth and the generator's thrown spectrum (for the
    efficiency): the newest simulation release, or the even-UUID half of the measured
    release ``release`` when there is no separate simulation (see :func:`kascade_measured`)."""
    sub, releases, _measured, rel, split = _kascade_plan(release)
    df = sub(release=rel)["events"].read()
    if "true_energy_eV" not in df or df["true_energy_eV"].isna().all():
        raise ParameterError(f"KASCADE release {rel!r} has no simulation truth (true_energy_eV)")
    datasets = _datasets(sub, rel)
    exposure, exp0 = _exposure_of(datasets)
    generator = dict(exp0)
    generator["thrown_events"] = sum(int((d.get("exposure") or {}).get("thrown_events", 0))
                                     for d in datasets.values())
    if len(datasets) > 1 and exp0.get("thrown_counts"):
        counts: dict[str, np.ndarray] = {}
        for d in datasets.values():
            for sp, v in ((d.get("exposure") or {}).get("thrown_counts") or {}).items():
                counts[sp] = counts.get(sp, 0) + np.asarray(v, dtype=np.float64)
        generator["thrown_counts"] = {k: v.tolist() for k, v in counts.items()}
    if split:
        df = df[_uuid_half(df["uuid"].astype(str)) == 0]
        generator["thrown_share"] = 0.5
        exposure = Exposure(exposure.area_m2, exposure.live_time_s * 0.5, exposure.zenith_min_deg,
                            exposure.zenith_max_deg)
    ev = _kascade_frame(df)
    if ledger is not None:
        ledger.record("kascade_simulation", catalog_entry="kcdc.events", release=rel,
                      files=_release_files(data_root(), "kascade", rel, "events"), uuids=ev["uuid"],
                      split="even last UUID digit" if split else None)
    return KascadeSample(rel, ev, exposure, generator)


# ------------------------------------------------------------------ TAIGA
@dataclass
class Tunka133Raw:
    """Tunka-133 raw records read through the readers, with the simulation truth and exposure.

    ``fadc`` (n, 32, 512) ADC counts; ``records``: cluster, event_number, time_ns, date per
    record (row order of ``fadc``); ``truth``: one row per thrown shower (``shower`` = its
    index, ``date``, ``event_number`` -1 if not recorded, true energy, direction, core);
    ``exposure``: area, live time (all nights), zenith band, energy range, throw centre."""

    release: str
    files: list[Path]
    fadc: np.ndarray
    records: pd.DataFrame
    truth: pd.DataFrame
    exposure: Exposure
    generator: dict


def _choose_taiga_release(releases: dict[str, dict], wanted: str | None, facility: str) -> str:
    """The given release, else the newest one with data of ``facility`` (ties: the fuller
    release, i.e. the one with more data sets, then the name)."""
    if wanted:
        return _choose_release(releases, wanted, None, "TAIGA")
    have = {r: s for r, s in releases.items() if facility in (s.get("datasets") or {})}
    if not have:
        raise ParameterError(f"no TAIGA release in the catalogue has {facility} data (releases: "
                             f"{', '.join(sorted(releases)) or 'none'}); run `make data`")

    def key(r):
        v = have[r].get("version")
        try:
            v = float(v)
        except (TypeError, ValueError):
            v = 0.0
        return (v, len(have[r].get("datasets") or {}), r)
    return max(have, key=key)


def _taiga_files(release: str | None, facility: str):
    sub = _sub("taiga")
    releases = _releases(sub.read())
    rel = _choose_taiga_release(releases, release, facility)
    files = sub(release=rel, facility=facility)["files"].read()
    col = next((c for c in ("path", "file", "relative_path", "name") if c in files.columns), None)
    if col is None:
        raise ParameterError(f"the TAIGA files table of release {rel!r} has no path column "
                             f"(columns: {list(files.columns)})")
    root = data_root()
    paths = []
    for p in files[col].astype(str):
        path = Path(p)
        if not path.is_absolute():
            cand = [root.root / path, root.raw_taiga / path, root.raw_taiga / facility / path]
            path = next((c for c in cand if c.exists()), cand[0])
        paths.append(path)
    if "facility" in files.columns:
        keep = (files["facility"].astype(str) == facility).to_numpy()
        paths = [p for p, k in zip(paths, keep) if k]
    return rel, sorted(set(paths)), releases[rel]


def tunka133_raw(release: str | None = None, max_files: int | None = None,
                 ledger: InputLedger | None = None) -> Tunka133Raw:
    """Tunka-133 raw files of a TAIGA release (through the catalogue's ``files`` entry),
    decoded with :func:`dlclab.formats.taiga.read_file`, plus the truth sidecars
    (``truth.parquet``, ``exposure.json`` in each night's folder)."""
    from dlclab.formats.taiga import read_file

    rel, paths, _summary = _taiga_files(release, "tunka133")
    paths = [p for p in paths if p.suffix[1:].isdigit()]
    if max_files:
        paths = paths[:max_files]
    if not paths:
        raise ParameterError(f"TAIGA release {rel!r} has no Tunka-133 raw files")
    fadc, recs = [], []
    for p in paths:
        data = read_file(p, "tunka133")
        fadc.append(np.asarray(data.fadc))
        ev = data.events.copy()
        ev["date"] = p.parent.name
        recs.append(ev)
    nights = sorted({p.parent for p in paths})
    truths, exposures = [], []
    for night in nights:
        t = pd.read_parquet(night / "truth.parquet")
        t["date"] = night.name
        truths.append(t)
        exposures.append(json.loads((night / "exposure.json").read_text()))
    truth = pd.concat(truths, ignore_index=True)
    truth["shower"] = np.arange(len(truth))
    e0 = exposures[0]
    live = float(sum(float(e["live_time_s"]) for e in exposures))
    exposure = Exposure(float(e0["area_m2"]), live, float(e0.get("zenith_min_deg", 0.0)), float(e0["zenith_max_deg"]))
    generator = {k: e0.get(k) for k in ("energy_min_eV", "energy_max_eV", "flux_model", "throw_centre_m",
                                         "throw_radius_m", "clusters")}
    if ledger is not None:
        sidecars = [n / "truth.parquet" for n in nights] + [n / "exposure.json" for n in nights]
        uuids = truth.loc[truth["event_number"] >= 0, "uuid"] if "uuid" in truth else None
        ledger.record("tunka133_raw", catalog_entry="taiga.files (facility=tunka133)", release=rel,
                      files=paths + sidecars, uuids=uuids)
    return Tunka133Raw(rel, paths, np.concatenate(fadc), pd.concat(recs, ignore_index=True), truth,
                       exposure, generator)


def unix_time_s(date, time_ns) -> np.ndarray:
    """Night folder date (YYYY-MM-DD, UTC) + ns of the day -> Unix seconds."""
    days = np.array([str(x)[:10] for x in np.asarray(date)], dtype="datetime64[D]")
    return days.astype("datetime64[s]").astype(np.int64).astype(np.float64) + np.asarray(time_ns, dtype=np.float64) / 1e9


@dataclass
class IactImages:
    """IACT camera images (event x pixel, photo-electrons) with their truth."""

    release: str
    images: np.ndarray        # (n, 560) float32
    is_gamma: np.ndarray      # (n,) bool
    energy_eV: np.ndarray     # (n,) true energy
    uuid: np.ndarray          # (n,) str
    dataset: object = None    # the xarray.Dataset behind it (lazy)


def _pick(ds, names, what: str):
    for n in names:
        if n in ds.variables:
            return ds[n]
    raise ParameterError(f"IACT image store has no {what} (looked for {', '.join(names)}; "
                         f"variables: {', '.join(map(str, ds.variables))})")


def open_iact_dataset(release: str | None = None):
    """The lazy xarray Dataset of a TAIGA release's IACT images (catalogue ``iact_images``)."""
    sub = _sub("taiga")
    releases = _releases(sub.read())
    rel = _choose_taiga_release(releases, release, "taiga_iact")
    return rel, sub(release=rel)["iact_images"].read()


def iact_is_gamma(ds) -> np.ndarray:
    """True for gamma-ray primaries, from whichever truth variable the store has."""
    var = _pick(ds, ("is_gamma", "true_is_gamma", "true_particle", "particle", "true_primary_id",
                     "true_corsika_id", "corsika_id", "primary"), "particle type")
    v = np.asarray(var.values)
    if v.dtype == bool:
        return v
    if v.dtype.kind in "iu":
        return v == 1  # CORSIKA id 1 = gamma
    # numpy 2 StringDType (xarray/zarr 3 strings) does not cast to "<U": go through objects
    return np.array([str(x).lower() in ("gamma", "photon") for x in v.astype(object)], dtype=bool)


def iact_images(release: str | None = None, max_events: int | None = None, seed: int = 0,
                ledger: InputLedger | None = None) -> IactImages:
    """IACT images and truth from the catalogue; ``max_events`` takes a seeded random
    subset (same seed, same events)."""
    rel, ds = open_iact_dataset(release)
    n = ds.sizes.get("event", 0)
    idx = np.arange(n)
    if max_events and max_events < n:
        idx = np.sort(np.random.default_rng(seed).choice(n, size=max_events, replace=False))
    sub = ds.isel(event=idx)
    image = _pick(sub, ("image_pe", "image", "images", "pe", "charge_pe"), "image variable")
    energy = _pick(sub, ("true_energy_eV", "energy_eV", "true_energy"), "true energy")
    uuid_var = next((sub[n] for n in ("uuid", "event_uuid") if n in sub.variables), None)
    uuids = (np.array([str(x) for x in np.asarray(uuid_var.values).astype(object)], dtype=object)
             if uuid_var is not None else np.array([f"{rel}:{i}" for i in idx], dtype=object))
    out = IactImages(rel, np.asarray(image.transpose("event", ...).values, dtype=np.float32),
                     iact_is_gamma(sub), np.asarray(energy.values, dtype=np.float64), uuids, ds)
    if ledger is not None:
        ledger.record("iact_images", catalog_entry="taiga.iact_images", release=rel,
                      files=_release_files(data_root(), "taiga", rel, "iact_images.zarr"), uuids=uuids)
    return out
