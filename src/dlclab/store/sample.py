"""The sample data root that ``make data`` (``dlclab sample``) builds, in seconds.

What it holds, and for whom:

KCDC exports (``raw/kcdc/<release>/<data set>_<FORMAT>/``), simulated, public
    ``KASCADE_SmallDataSample_wA_runs_0877-7417`` (5k events with per-station arrays) as
    ASCII, HDF5 and ROOT, for OCEANUS and NABOO; ``KASCADE_SmallDataSample_nA_runs_0877-7417``
    (200k events, no arrays) as HDF5 for OCEANUS; ``KASCADE_SimulationData_nA_runs_0877-7417``
    (100k events with the true primary quantities) as HDF5 for the simulation release.
KASCADE releases
    ``NABOO`` (4) and ``OCEANUS`` (5): "measured-like" (no truth), the same wA events in
    both (their UUIDs agree across releases); ``OCEANUS-SIM`` (5, simulation, truth).
TAIGA raw files (``raw/taiga``), simulated, collaboration-internal
    Tunka-133, Tunka-Rex, Tunka-Grande (clusters 1-3, two nights), HiSCORE, IACT gamma
    and proton images, with truth, exposure and IACT calibration sidecars
    (:func:`dlclab.simulate.taiga.simulate_taiga_sample`).
TAIGA release
    ``T2020.1`` (simulation, access ``collaboration:taiga``): event tables of all five
    facilities with ``true_*`` columns, IACT images (ADC and photo-electrons) in Zarr.
Catalogues
    ``catalogs/dlc.yaml``, ``kcdc.yaml``, ``taiga.yaml``.

Every step is skipped when its output exists and verifies (exports and raw data carry a
``.sample.json`` stamp with the parameters that made them and the sha256 of every
file; releases are checked against their manifests), so a rerun takes about a second;
anything changed by hand is reported, never overwritten. Everything is built in
a temporary folder and renamed into place: an interrupted run leaves nothing half-made.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlclab.errors import DlclabError
from dlclab.store.layout import DataRoot
from dlclab.store.manifest import ReleaseInfo

SEED = 1
STAMP = ".sample.json"
SAMPLE_VERSION = 2
EXPORT_CREATED = "2026-01-01T00:00:00Z"
WA = "KASCADE_SmallDataSample_wA_runs_0877-7417"
NA = "KASCADE_SmallDataSample_nA_runs_0877-7417"
SIM = "KASCADE_SimulationData_nA_runs_0877-7417"


@dataclass(frozen=True)
class ExportSpec:
    """One simulated KCDC data set, written in one or more export formats."""

    release: str
    data_set: str
    events: int
    seed: int
    with_arrays: bool
    simulation: bool
    formats: tuple[str, ...]


def kascade_exports(scale: float = 1.0) -> list[ExportSpec]:
    n = lambda k: max(100, int(k * scale))  # noqa: E731
    return [
        ExportSpec("OCEANUS", WA, n(5_000), SEED + 1, True, False, ("ASCII", "HDF5", "ROOT")),
        ExportSpec("OCEANUS", NA, n(200_000), SEED, False, False, ("HDF5",)),
        ExportSpec("NABOO", WA, n(5_000), SEED + 1, True, False, ("ROOT",)),
        ExportSpec("OCEANUS-SIM", SIM, n(100_000), SEED + 2, False, True, ("HDF5",)),
    ]


#: release -> (metadata, [(data set, format it is converted from)])
KASCADE_RELEASES: dict[str, tuple[ReleaseInfo, list[tuple[str, str]]]] = {
    "NABOO": (ReleaseInfo("kascade", "NABOO", "4", title="KASCADE sample, release NABOO",
                          description="Simulated stand-in for KCDC's NABOO small data sample"),
              [(WA, "ROOT")]),
    "OCEANUS": (ReleaseInfo("kascade", "OCEANUS", "5", title="KASCADE sample, release OCEANUS",
                            description="Simulated stand-in for KCDC's OCEANUS small data samples"),
                [(NA, "HDF5"), (WA, "HDF5")]),
    "OCEANUS-SIM": (ReleaseInfo("kascade", "OCEANUS-SIM", "5", kind="simulation",
                                title="KASCADE simulation (H3a) for OCEANUS",
                                description="Simulated events with the true primary quantities"),
                    [(SIM, "HDF5")]),
}
TAIGA_RELEASE = ReleaseInfo("taiga", "T2020.1", "1", kind="simulation", access="collaboration:taiga",
                            title="TAIGA sample: Tunka-133, Tunka-Rex, Tunka-Grande, HiSCORE, IACT",
                            description="Simulated TAIGA nights in the raw formats, with truth")
#: Public teaching release: the IACT images only (astroparticle.online's gamma/hadron course
#: must be open to students outside the TAIGA collaboration; the raw files stay internal).
TAIGA_EDU_RELEASE = ReleaseInfo("taiga", "T2020.1-EDU", "1", kind="simulation", access="public",
                                title="TAIGA-IACT teaching sample: gamma and proton images",
                                description="Simulated TAIGA-IACT camera images with truth, "
                                            "released for education")


class SampleError(DlclabError):
    """The data root holds something the sample would have to overwrite."""


@dataclass
class SampleReport:
    steps: list[tuple[str, str, float]] = field(default_factory=list)  # (what, status, seconds)

    def add(self, what: str, status: str, seconds: float) -> None:
        self.steps.append((what, status, seconds))


def _tree_digests(top: Path) -> dict[str, str]:
    from dlclab.store.manifest import sha256_file

    return {p.relative_to(top).as_posix(): sha256_file(p)
            for p in sorted(top.rglob("*")) if p.is_file() and p.name != STAMP}


def _commit_dir(tmp: Path, target: Path, params: dict[str, Any]) -> None:
    """Stamp ``tmp`` (parameters + sha256 of every file) and rename it to ``target``."""
    stamp = {"params": params, "files": _tree_digests(tmp)}
    (tmp / STAMP).write_text(json.dumps(stamp, sort_keys=True, indent=1) + "\n")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(tmp, target)


def _check_free(target: Path, params: dict[str, Any]) -> bool:
    """True if ``target`` is the sample's intact output; False if free; raise if it holds
    something else (other parameters, changed or missing files, no stamp)."""
    if not target.exists():
        return False
    stamp_path = target / STAMP
    try:
        stamp = json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        raise SampleError(f"{target} exists but was not made by `dlclab sample` (no valid {STAMP}); "
                          "move it away or use another --data-root") from None
    if stamp.get("params") != params:
        raise SampleError(f"{target} was made with other parameters ({stamp.get('params')}); "
                          "move it away or use another --data-root")
    found = _tree_digests(target)
    changed = sorted(k for k in set(found) | set(stamp.get("files", {}))
                     if found.get(k) != stamp["files"].get(k))
    if changed:
        raise SampleError(f"{target}: {', '.join(changed[:5])} changed since `dlclab sample` wrote "
                          "them; move the folder away to rebuild it")
    return True


def export_dir(layout: DataRoot, spec: ExportSpec, fmt: str) -> Path:
    return layout.raw_kcdc(spec.release) / f"{spec.data_set}_{fmt}"


def build_kcdc_exports(layout: DataRoot, specs: list[ExportSpec], report: SampleReport) -> None:
    """Simulate each data set once and write its exports (skipping finished ones)."""
    from dlclab.formats.kcdc import write_export
    from dlclab.simulate.kascade import simulate_kascade

    sims: dict[tuple, Any] = {}
    for spec in specs:
        for fmt in spec.formats:
            t0 = time.perf_counter()
            target = export_dir(layout, spec, fmt)
            params = {"sample": SAMPLE_VERSION, "events": spec.events, "seed": spec.seed,
                      "with_arrays": spec.with_arrays, "simulation": spec.simulation,
                      "release": spec.release, "format": fmt}
            if _check_free(target, params):
                report.add(f"export {target.name} ({spec.release})", "exists", time.perf_counter() - t0)
                continue
            key = (spec.events, spec.seed, spec.with_arrays)
            if key not in sims:
                sims[key] = simulate_kascade(spec.events, seed=spec.seed, with_arrays=spec.with_arrays)
            sim = sims[key]
            export = sim.to_export(release=spec.release, data_set=spec.data_set)
            export.info.created = EXPORT_CREATED  # the export's text does not depend on the day
            if not spec.simulation:
                export = _as_measured(export)
            tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            try:
                write_export(export, tmp, fmt.lower())
                _commit_dir(tmp, target, params)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            report.add(f"export {target.name} ({spec.release})", "built", time.perf_counter() - t0)


def _as_measured(export):
    """A simulated export presented as measured data: no truth component."""
    import dataclasses

    tables = {k: v for k, v in export.tables.items() if k != "truth"}
    info = export.info
    if dataclasses.is_dataclass(info):
        info = dataclasses.replace(info, simulation=False)
    return dataclasses.replace(export, tables=tables, info=info) if dataclasses.is_dataclass(export) \
        else type(export)(tables=tables, stations=export.stations, info=info)


def build_taiga_raw(layout: DataRoot, scale: float, report: SampleReport) -> None:
    """Simulated TAIGA nights under ``raw/taiga`` (skipped when present)."""
    from dlclab.simulate.taiga import simulate_taiga_sample

    t0 = time.perf_counter()
    params = {"sample": SAMPLE_VERSION, "seed": SEED, "scale": scale}
    target = layout.raw_taiga
    if _check_free(target, params):
        report.add("raw/taiga", "exists", time.perf_counter() - t0)
        return
    tmp = layout.root / f".raw-taiga.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        simulate_taiga_sample(tmp, seed=SEED, scale=scale)
        _commit_dir(tmp / "raw" / "taiga", target, params)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.add("raw/taiga", "built", time.perf_counter() - t0)


def build_releases(layout: DataRoot, report: SampleReport, progress: bool = False) -> None:
    from dlclab.store.convert import convert_kcdc_exports, convert_taiga_raw

    from dlclab.store.manifest import verify_release

    def existing(info: ReleaseInfo) -> bool:
        # a committed sample release is kept if it verifies (HDF5/ROOT exports rebuilt
        # later would not be byte-identical, so their build id would not match)
        target = layout.release_dir(info.experiment, info.release)
        if (target / "manifest.json").exists():
            verify_release(target)
            return True
        return False

    for name, (info, parts) in KASCADE_RELEASES.items():
        t0 = time.perf_counter()
        status = "exists"
        if not existing(info):
            sources = [layout.raw_kcdc(name) / f"{ds}_{fmt}" for ds, fmt in parts]
            status = convert_kcdc_exports(sources, layout.root, info, progress=progress).status
        report.add(f"release kascade/{name}", status, time.perf_counter() - t0)
    for info, sources in ((TAIGA_RELEASE, [layout.raw_taiga]),
                          (TAIGA_EDU_RELEASE, [layout.raw_taiga / "taiga_iact"])):
        t0 = time.perf_counter()
        status = "exists"
        if not existing(info):
            status = convert_taiga_raw(sources, layout.root, info, progress=progress).status
        report.add(f"release taiga/{info.release}", status, time.perf_counter() - t0)


def build_sample(data_root: Path, *, scale: float = 1.0, progress: bool = False) -> SampleReport:
    """Build (or confirm) the whole sample data root; see the module docstring."""
    from dlclab.store.access import restrict_new_data
    from dlclab.store.convert import refresh_catalogs

    layout = DataRoot(Path(data_root).resolve())
    layout.root.mkdir(parents=True, exist_ok=True)
    report = SampleReport()
    build_kcdc_exports(layout, kascade_exports(scale), report)
    build_taiga_raw(layout, scale, report)
    build_releases(layout, report, progress=progress)
    t0 = time.perf_counter()
    refresh_catalogs(layout.root)
    restrict_new_data(layout.root)
    report.add("catalogs", "written", time.perf_counter() - t0)
    return report
