"""Simulated TAIGA / Tunka data in the facilities' raw formats, with truth and exposure.

Layout under ``out_dir`` (docs/architecture.md)::

    raw/taiga/<facility>/<YYYY-MM-DD>/<name>.NNN    raw files (dlclab.formats.taiga writers)
    raw/taiga/<facility>/<YYYY-MM-DD>/truth.parquet true primaries, one row per thrown primary
    raw/taiga/<facility>/<YYYY-MM-DD>/exposure.json area, live time, zenith range, ...
    raw/taiga/taiga_iact/<YYYY-MM-DD>/calibration.json  pedestals, gains, channel map

File names: ``t133_cCC.NNN`` (Tunka-133 cluster CC), ``rex_cCC.NNN``, ``grande_sSS.NNN``
(Tunka-Grande station SS), ``hiscore.NNN``, ``iact.NNN``; ``NNN`` counts files of one
cluster/station and night from 001 (a new file every ``events_per_file`` events).

Event numbers: Tunka-133, Tunka-Rex and Tunka-Grande see the same showers; every shower
that triggers one of them gets the next event number of its night (1, 2, ...), and every
cluster or station file that recorded it carries that number, so an event is rebuilt
from several files by ``event_number`` (times agree to the front's spread, microseconds).
Truth tables carry ``event_number`` (-1: not recorded) and the event's UUID
(``dlclab.identity.event_uuid(facility, run, event_number)``, run = the night as YYYYMMDD).

Every random stream is derived from ``(seed, facility)``, so a facility's files do not
depend on which other facilities are simulated, and the same seed gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from dlclab.formats.taiga import FORMATS as TAIGA_FORMATS
from dlclab.instruments import taiga as layout
from dlclab.simulate import taiga_eas as eas

#: every TAIGA facility writes the raw format of its name (the formats' registry)
FACILITIES = tuple(TAIGA_FORMATS)
TUNKA_ARRAY = ("tunka133", "tunka_rex", "tunka_grande")
FILE_PREFIX = {"tunka133": "t133_c", "tunka_rex": "rex_c", "tunka_grande": "grande_s",
               "taiga_hiscore": "hiscore", "taiga_iact": "iact"}
#: energy range and zenith range of the shower arrays
TUNKA_ENERGY_EV = (1e15, 1e18)
HISCORE_ENERGY_EV = (1e14, 1e17)
ZENITH_MAX_DEG = 45.0
#: IACT: trigger rate used to place the events in time (the simulation is not a flux)
IACT_EVENT_RATE_HZ = 20.0
EXPOSURE_METADATA_KEY = b"dlclab.exposure"
DEFAULT_EVENTS_PER_FILE = {"tunka133": 2000, "tunka_rex": 10000, "tunka_grande": 2000,
                           "taiga_hiscore": 20000, "taiga_iact": 20000}

Progress = Callable[[int], None]


def _stream(seed: int, *tags: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), *tags])


def _night_dir(out_dir: Path, facility: str, night: eas.Night) -> Path:
    return Path(out_dir) / "raw" / "taiga" / facility / night.date.isoformat()


def _chunks(n: int, size: int) -> Iterable[tuple[int, slice]]:
    for seq, start in enumerate(range(0, n, size), start=1):
        yield seq, slice(start, min(start + size, n))


def _write_in_parts(folder: Path, stem: str, n: int, per_file: int, progress: Progress | None,
                    write: Callable[[Path, slice], int]) -> list[Path]:
    """Write ``n`` records as ``stem.001``, ``stem.002``, ... of at most ``per_file`` each."""
    paths = []
    for seq, part in _chunks(n, per_file):
        path = folder / f"{stem}.{seq:03d}"
        written = write(path, part)
        paths.append(path)
        if progress:
            progress(written)
    return paths


def _write_truth(folder: Path, facility: str, truth: pd.DataFrame, exposure: dict) -> list[Path]:
    """truth.parquet (exposure in the schema metadata) and exposure.json in ``folder``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dlclab.identity import event_uuid_strings

    folder.mkdir(parents=True, exist_ok=True)
    truth = truth.copy()
    recorded = truth["event_number"].to_numpy() >= 0
    uuids = np.full(len(truth), None, dtype=object)
    ascii_rows = event_uuid_strings(facility, truth["run"].to_numpy()[recorded],
                                    truth["event_number"].to_numpy()[recorded])
    uuids[recorded] = np.ascontiguousarray(ascii_rows).view("S36").ravel().astype(str)
    truth["uuid"] = uuids
    table = pa.Table.from_pandas(truth, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta.pop(b"pandas", None)  # keep the file byte-stable across pandas versions
    meta[EXPOSURE_METADATA_KEY] = json.dumps(exposure, sort_keys=True).encode()
    table = table.replace_schema_metadata(meta)
    path = folder / "truth.parquet"
    pq.write_table(table, path, compression="zstd")
    jpath = folder / "exposure.json"
    jpath.write_text(json.dumps(exposure, indent=2, sort_keys=True) + "\n")
    return [path, jpath]


def read_exposure(folder: str | Path) -> dict:
    """The exposure a simulated night folder records (exposure.json)."""
    return json.loads((Path(folder) / "exposure.json").read_text())


def _nights_for(live_time_s: float, n_nights: int | None, first: dt.date) -> list[eas.Night]:
    """``n_nights`` nights, or as many as the live time needs (at 90 % of the dark time)."""
    if n_nights:
        nights = eas.tunka_nights(n_nights, first)
        if live_time_s <= sum(n.duration_s for n in nights):
            return nights
        import warnings

        warnings.warn(f"{live_time_s:.0f} s of live time do not fit in {n_nights} night(s); "
                      "using as many nights as needed", stacklevel=3)
    k = 1
    while True:
        nights = eas.tunka_nights(k, first)
        if sum(n.duration_s for n in nights) * 0.9 >= live_time_s:
            return nights
        k = max(k + 1, int(np.ceil(k * live_time_s / (0.9 * sum(n.duration_s for n in nights)))))


def _event_numbers(showers: eas.Showers, recorded: np.ndarray) -> np.ndarray:
    """Per night 1, 2, ... for the recorded showers (time order), -1 for the others."""
    numbers = np.full(len(showers), -1, dtype=np.int64)
    for k in range(len(showers.nights)):
        sel = np.flatnonzero(recorded & (showers.night == k))
        numbers[sel] = np.arange(1, len(sel) + 1)
    return numbers


def _shower_truth(showers: eas.Showers, numbers: np.ndarray) -> pd.DataFrame:
    runs = np.array([n.run for n in showers.nights], dtype=np.int64)
    return pd.DataFrame({
        "run": runs[showers.night], "event_number": numbers,
        "time_ns": showers.time_ns, "unix_time_ns": showers.unix_time_ns(),
        "energy_eV": showers.energy_eV, "zenith_deg": showers.zenith_deg,
        "azimuth_deg": showers.azimuth_deg, "core_x_m": showers.core_x_m,
        "core_y_m": showers.core_y_m, "corsika_id": showers.corsika_id,
        "mass_number": showers.mass_number, "xmax_g_cm2": showers.xmax_g_cm2,
        "q175_ph_cm2_eV": eas.q175_from_energy(showers.energy_eV),
    })


def _night_exposure(showers: eas.Showers, k: int, facility: str, extra: dict) -> dict:
    exp = {key: v for key, v in showers.exposure.items() if key != "nights"}
    night = showers.exposure["nights"][k]
    exp.update(facility=facility, date=night["date"], run=night["run"],
               live_time_s=night["live_time_s"], total_live_time_s=showers.exposure["live_time_s"],
               area_note="area_m2 is the disc the cores were thrown on; efficiency = "
                         "recorded / thrown (truth.parquet) within it")
    exp.update(extra)
    return exp


def effective_area_table(showers: eas.Showers, recorded: np.ndarray, area_m2: float,
                         bins_per_decade: int = 4) -> dict:
    """Trigger effective area of this data set in bins of lg E (all nights together):
    thrown disc x recorded / thrown, with the counts, so that its error is known."""
    lg_e = np.log10(showers.energy_eV)
    lo = np.floor(lg_e.min() * bins_per_decade) / bins_per_decade if len(lg_e) else 15.0
    hi = np.ceil(lg_e.max() * bins_per_decade) / bins_per_decade if len(lg_e) else 15.0
    edges = np.round(np.arange(lo, hi + 0.5 / bins_per_decade, 1.0 / bins_per_decade), 6)
    if len(edges) < 2:
        edges = np.array([lo, lo + 1.0 / bins_per_decade])
    thrown = np.histogram(lg_e, edges)[0]
    kept = np.histogram(lg_e[recorded], edges)[0]
    area = np.where(thrown > 0, area_m2 * kept / np.maximum(thrown, 1), np.nan)
    return {"lg_energy_eV_edges": edges.tolist(), "n_thrown": thrown.tolist(), "n_recorded": kept.tolist(),
            "effective_area_m2": [None if np.isnan(a) else float(a) for a in area],
            "note": "trigger of at least one simulated cluster, any core position on the disc"}


def simulate_tunka_array(out_dir: Path, *, n_showers: int, seed: int = 1,
                         clusters: list[int] | None = None, n_nights: int | None = None,
                         first_night: dt.date = dt.date(2013, 1, 5),
                         facilities: Iterable[str] = TUNKA_ARRAY,
                         throw_radius_m: float | None = None,
                         events_per_file: dict[str, int] | None = None,
                         progress: Progress | None = None) -> dict:
    """Tunka-133 (+ Tunka-Rex, Tunka-Grande) raw files for ``n_showers`` thrown showers.

    ``clusters``: Tunka-133 clusters to simulate (default all 25); Tunka-Rex antennas of
    the same clusters, Tunka-Grande stations of the same numbers (<= 19). Cores are thrown
    on a disc around the clusters' centre (radius: farthest cluster + 400 m unless
    given). Returns {"files": [...], "events": {facility: recorded events}, ...}.
    """
    from dlclab.formats.taiga import write_tunka133, write_tunka_grande, write_tunka_rex
    from dlclab.simulate import taiga_grande, taiga_rex, taiga_tunka133
    from dlclab.simulate.primaries import PrimaryFlux

    facilities = tuple(facilities)
    clusters = sorted(clusters or range(1, layout.TUNKA133_N_CLUSTERS + 1))
    per_file = {**DEFAULT_EVENTS_PER_FILE, **(events_per_file or {})}
    centres = layout.tunka133_cluster_centres()[np.array(clusters) - 1]
    centre = centres.mean(axis=0)
    if throw_radius_m is None:
        throw_radius_m = float(np.hypot(*(centres - centre).T).max() + 400.0)
    flux = PrimaryFlux(*TUNKA_ENERGY_EV)
    live = eas.required_live_time_s(n_showers, flux, np.pi * throw_radius_m ** 2, ZENITH_MAX_DEG)
    nights = _nights_for(live, n_nights, first_night)
    rng = _stream(seed, 133)
    showers = eas.throw_showers(n_showers, rng, energy_min_eV=TUNKA_ENERGY_EV[0],
                                energy_max_eV=TUNKA_ENERGY_EV[1], zenith_max_deg=ZENITH_MAX_DEG,
                                throw_centre_m=(float(centre[0]), float(centre[1])),
                                throw_radius_m=throw_radius_m, nights=nights, flux=flux)
    hits = taiga_tunka133.cluster_hits(showers, clusters, _stream(seed, 133, 1))
    stations = [c for c in clusters if c <= layout.TUNKA_GRANDE_N_STATIONS]
    if "tunka_grande" in facilities and stations:
        g_hits = taiga_grande.station_hits(showers, _stream(seed, 3032, 1))
        g_hits = g_hits.take(np.isin(g_hits.station, stations))
    else:
        g_hits = None
    recorded = np.zeros(len(showers), dtype=bool)
    recorded[hits.shower] = True
    if g_hits is not None:
        recorded[g_hits.shower] = True
    numbers = _event_numbers(showers, recorded)
    truth = _shower_truth(showers, numbers)
    truth["tunka133_clusters"] = np.bincount(hits.shower, minlength=len(showers)).astype(np.int16)
    truth["grande_stations"] = (np.bincount(g_hits.shower, minlength=len(showers)).astype(np.int16)
                                if g_hits is not None else np.int16(0))

    streams = {"tunka133": _stream(seed, 133, 2), "tunka_rex": _stream(seed, 4, 2),
               "tunka_grande": _stream(seed, 3032, 2)}

    def write_cluster_records(facility: str, path: Path, sub, ev, t, c: int) -> int:
        if facility == "tunka133":
            fadc = taiga_tunka133.fadc_traces(sub, streams[facility], seed)
            write_tunka133(path, event_number=ev, time_ns=t, fadc=fadc, cluster=c)
        else:
            fadc = taiga_rex.rex_traces(showers, sub, streams[facility])
            write_tunka_rex(path, event_number=ev, time_ns=t, fadc=fadc, cluster=c)
        return len(ev)

    def write_station_records(path: Path, sub, ev, t, s: int) -> int:
        samples = taiga_grande.grande_traces(sub, streams["tunka_grande"], seed)
        write_tunka_grande(path, event_number=ev, time_ns=t, samples=samples, cluster=s, link=1)
        return len(ev)

    files: list[Path] = []
    events: dict[str, int] = {}
    seen_by_t133 = np.bincount(hits.shower, minlength=len(showers)) > 0
    hi_e = showers.energy_eV >= 1e16
    eff_area = float(np.pi * throw_radius_m ** 2 * seen_by_t133[hi_e].mean()) if hi_e.any() else None
    area_table = effective_area_table(showers, seen_by_t133, np.pi * throw_radius_m ** 2)
    for k, night in enumerate(nights):
        in_night = showers.night[hits.shower] == k
        for facility in (f for f in facilities if f != "tunka_grande"):
            folder = _night_dir(out_dir, facility, night)
            for c in clusters:
                sub = hits.take(np.flatnonzero(in_night & (hits.cluster == c)))
                t = (showers.time_ns[sub.shower] + sub.trigger_delay_ns) // 10 * 10
                files += _write_in_parts(
                    folder, f"{FILE_PREFIX[facility]}{c:02d}", len(sub), per_file[facility], progress,
                    lambda path, part: write_cluster_records(
                        facility, path, sub.take(part), numbers[sub.shower][part], t[part], c))
            events[facility] = events.get(facility, 0) + len(np.unique(hits.shower[in_night]))
        if g_hits is not None:
            in_night_g = showers.night[g_hits.shower] == k
            folder = _night_dir(out_dir, "tunka_grande", night)
            for s in stations:
                sub = g_hits.take(np.flatnonzero(in_night_g & (g_hits.station == s)))
                t = (showers.time_ns[sub.shower] + sub.time_delay_ns) // 10 * 10
                files += _write_in_parts(
                    folder, f"{FILE_PREFIX['tunka_grande']}{s:02d}", len(sub), per_file["tunka_grande"],
                    progress, lambda path, part: write_station_records(
                        path, sub.take(part), numbers[sub.shower][part], t[part], s))
            events["tunka_grande"] = events.get("tunka_grande", 0) + len(np.unique(g_hits.shower[in_night_g]))
        night_truth = truth[showers.night == k].reset_index(drop=True)
        for facility in facilities:
            extra = {"clusters": clusters} if facility != "tunka_grande" else {"stations": stations}
            if facility == "tunka133":
                extra["effective_area_m2_above_1e16_eV"] = eff_area
                extra["effective_area"] = area_table
            files += _write_truth(_night_dir(out_dir, facility, night), facility, night_truth,
                                  _night_exposure(showers, k, facility, extra))
    return {"files": files, "events": events, "showers": len(showers),
            "nights": [n.date.isoformat() for n in nights],
            "live_time_s": showers.exposure["live_time_s"]}


def simulate_hiscore(out_dir: Path, *, n_showers: int, seed: int = 1, n_nights: int | None = None,
                     first_night: dt.date = dt.date(2013, 1, 5), throw_radius_m: float = 500.0,
                     events_per_file: int | None = None, progress: Progress | None = None) -> dict:
    """TAIGA-HiSCORE raw files (one a night, all 28 stations) for ``n_showers`` showers."""
    from dlclab.formats.taiga import write_taiga_hiscore
    from dlclab.simulate import taiga_hiscore
    from dlclab.simulate.primaries import PrimaryFlux

    per_file = events_per_file or DEFAULT_EVENTS_PER_FILE["taiga_hiscore"]
    centre = layout.hiscore_station_positions().mean(axis=0)
    flux = PrimaryFlux(*HISCORE_ENERGY_EV)
    live = eas.required_live_time_s(n_showers, flux, np.pi * throw_radius_m ** 2, ZENITH_MAX_DEG)
    nights = _nights_for(live, n_nights, first_night)
    showers = eas.throw_showers(n_showers, _stream(seed, 2014), energy_min_eV=HISCORE_ENERGY_EV[0],
                                energy_max_eV=HISCORE_ENERGY_EV[1], zenith_max_deg=ZENITH_MAX_DEG,
                                throw_centre_m=(float(centre[0]), float(centre[1])),
                                throw_radius_m=throw_radius_m, nights=nights, flux=flux)
    hits = taiga_hiscore.station_hits(showers, _stream(seed, 2014, 1))
    recorded = np.zeros(len(showers), dtype=bool)
    recorded[hits.shower] = True
    numbers = _event_numbers(showers, recorded)
    truth = _shower_truth(showers, numbers)
    truth["hiscore_stations"] = np.bincount(hits.shower, minlength=len(showers)).astype(np.int16)
    rng = _stream(seed, 2014, 2)
    files: list[Path] = []
    total = 0

    def write_records(path: Path, sub, ev, t) -> int:
        traces, offsets = taiga_hiscore.hiscore_traces(sub, rng)
        write_taiga_hiscore(path, event_number=ev, time_ns=t, station=sub.station, traces=traces,
                            offsets=offsets, ip=0)
        return len(ev)

    stations = list(range(1, layout.HISCORE_N_STATIONS + 1))
    for k, night in enumerate(nights):
        folder = _night_dir(out_dir, "taiga_hiscore", night)
        sub = hits.take(np.flatnonzero(showers.night[hits.shower] == k))
        ev = numbers[sub.shower]
        t = (showers.time_ns[sub.shower] + sub.time_delay_ns) // 10 * 10
        files += _write_in_parts(folder, "hiscore", len(sub), per_file, progress,
                                 lambda path, part: write_records(path, sub.take(part), ev[part], t[part]))
        total += int(len(np.unique(sub.shower)))
        files += _write_truth(folder, "taiga_hiscore", truth[showers.night == k].reset_index(drop=True),
                              _night_exposure(showers, k, "taiga_hiscore", {"stations": stations}))
    return {"files": files, "events": {"taiga_hiscore": total}, "showers": len(showers),
            "nights": [n.date.isoformat() for n in nights], "live_time_s": showers.exposure["live_time_s"]}


def simulate_iact(out_dir: Path, *, n_gamma: int, n_proton: int, seed: int = 1,
                  first_night: dt.date = dt.date(2013, 1, 5), events_per_file: int | None = None,
                  chunk: int = 5000, progress: Progress | None = None) -> dict:
    """TAIGA-IACT raw files of ``n_gamma`` gamma and ``n_proton`` proton images (thrown;
    the triggered ones are written, 18 board packages each)."""
    from dlclab.formats.taiga import write_taiga_iact
    from dlclab.simulate import taiga_iact

    per_file = events_per_file or DEFAULT_EVENTS_PER_FILE["taiga_iact"]
    rng = _stream(seed, 560)
    calib = taiga_iact.iact_calibration(seed)
    truth = taiga_iact.draw_events(n_gamma, n_proton, rng)
    n = len(truth)
    live_time_s = n / IACT_EVENT_RATE_HZ
    night = _nights_for(live_time_s, 1, first_night)[0]
    t_s = np.sort(rng.uniform(0.0, live_time_s, n))
    time_ns = night.start_ns_of_day + (t_s * 1e9).astype(np.int64) // 10 * 10
    folder = _night_dir(out_dir, "taiga_iact", night)
    triggered = np.zeros(n, dtype=bool)
    numbers = np.full(n, -1, dtype=np.int64)
    files: list[Path] = []
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []   # (index, high, low)

    def flush(count: int) -> None:
        """Write the first ``count`` pending camera events as the next iact.NNN."""
        idx = np.concatenate([p[0] for p in pending])
        hg = np.concatenate([p[1] for p in pending])
        lg = np.concatenate([p[2] for p in pending])
        path = folder / f"iact.{len(files) + 1:03d}"
        boards = np.arange(layout.IACT_N_BOARDS)
        n_b = len(boards)
        write_taiga_iact(path, event_number=np.repeat(numbers[idx[:count]], n_b),
                         time_ns=np.repeat(time_ns[idx[:count]], n_b), board=np.tile(boards, count),
                         high_gain=hg[:count].reshape(-1, 32), low_gain=lg[:count].reshape(-1, 32))
        files.append(path)
        pending[:] = [(idx[count:], hg[count:], lg[count:])] if count < len(idx) else []

    img_rng = _stream(seed, 560, 1)
    n_pending = 0
    for start in range(0, n, chunk):
        part = truth.iloc[start:start + chunk]
        expected = taiga_iact.expected_pe(part, img_rng)
        _, trig, hg, lg = taiga_iact.camera_response(expected, img_rng, calib)
        idx = start + np.flatnonzero(trig)
        triggered[idx] = True
        numbers[idx] = int(triggered[:start].sum()) + np.arange(1, len(idx) + 1)
        pending.append((idx, hg[trig], lg[trig]))
        n_pending += len(idx)
        while n_pending >= per_file:
            flush(per_file)
            n_pending -= per_file
        if progress:
            progress(len(idx))
    if n_pending:
        flush(n_pending)
    truth.insert(0, "event_number", numbers)
    truth.insert(0, "run", night.run)
    truth.insert(2, "time_ns", time_ns)
    truth["triggered"] = triggered
    exposure = taiga_iact.iact_exposure(n_gamma, n_proton, live_time_s)
    exposure.update(facility="taiga_iact", date=night.date.isoformat(), run=night.run,
                    live_time_note=f"events placed at {IACT_EVENT_RATE_HZ} Hz; the gamma/proton mix is "
                                   "a simulation choice, not a flux: weight by area and spectrum")
    files += _write_truth(folder, "taiga_iact", truth, exposure)
    cpath = folder / "calibration.json"
    cpath.write_text(json.dumps(calib.to_dict(), sort_keys=True) + "\n")
    files.append(cpath)
    return {"files": files, "events": {"taiga_iact": int(triggered.sum())}, "thrown": n,
            "nights": [night.date.isoformat()], "live_time_s": live_time_s}


def simulate_taiga(out_dir: Path, *, facility: str = "all", events: int = 1000, seed: int = 1,
                   n_nights: int | None = None, clusters: list[int] | None = None,
                   progress: Progress | None = None) -> dict:
    """The CLI's entry: ``events`` primaries thrown per facility group (Tunka array,
    HiSCORE, IACT: half gamma rays, half protons)."""
    if facility not in FACILITIES + ("all",):
        raise ValueError(f"unknown facility {facility!r}; expected one of {', '.join(FACILITIES)} or all")
    summary: dict = {"files": [], "events": {}}

    def merge(part: dict) -> None:
        summary["files"] += part["files"]
        summary["events"].update(part["events"])

    wanted = FACILITIES if facility == "all" else (facility,)
    array = tuple(f for f in TUNKA_ARRAY if f in wanted)
    if array:
        merge(simulate_tunka_array(out_dir, n_showers=events, seed=seed, clusters=clusters,
                                   n_nights=n_nights, facilities=array, progress=progress))
    if "taiga_hiscore" in wanted:
        merge(simulate_hiscore(out_dir, n_showers=events, seed=seed, n_nights=n_nights, progress=progress))
    if "taiga_iact" in wanted:
        merge(simulate_iact(out_dir, n_gamma=events // 2, n_proton=events - events // 2, seed=seed,
                            progress=progress))
    return summary


#: bumped whenever the sample's content changes for the same seed and scale (a model
#: change): callers that cache the sample can key on it
SAMPLE_MODEL_VERSION = 2
#: the sample release: clusters 1-3 (the centre and two neighbours), two nights
SAMPLE_CLUSTERS = [1, 2, 3]
SAMPLE_TUNKA_SHOWERS = 1500
SAMPLE_HISCORE_SHOWERS = 1000
SAMPLE_IACT_PER_TYPE = 1200


def simulate_taiga_sample(out_dir: Path, *, seed: int = 1, scale: float = 1.0) -> dict:
    """The sample release's TAIGA raw data under ``out_dir/raw/taiga``: Tunka-133, -Rex and
    -Grande on clusters 1-3 over two nights, HiSCORE (28 stations, one night) and IACT
    gamma and proton images; with truth and exposure. A few seconds at ``scale=1``;
    byte-identical for a seed. Returns {"files": [paths], "events": {facility: n}}."""
    out_dir = Path(out_dir)
    summary: dict = {"files": [], "events": {}}
    for part in (
        simulate_tunka_array(out_dir, n_showers=max(1, int(SAMPLE_TUNKA_SHOWERS * scale)), seed=seed,
                             clusters=SAMPLE_CLUSTERS, n_nights=2, throw_radius_m=500.0),
        simulate_hiscore(out_dir, n_showers=max(1, int(SAMPLE_HISCORE_SHOWERS * scale)), seed=seed,
                         n_nights=1),
        simulate_iact(out_dir, n_gamma=max(1, int(SAMPLE_IACT_PER_TYPE * scale)),
                      n_proton=max(1, int(SAMPLE_IACT_PER_TYPE * scale)), seed=seed),
    ):
        summary["files"] += part["files"]
        summary["events"].update(part["events"])
    summary["files"] = sorted(summary["files"])
    return summary
