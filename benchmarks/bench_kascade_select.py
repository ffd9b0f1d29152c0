"""Select + histogram over KASCADE events: the analysis-ready store against KCDC exports.

The task every KASCADE analysis starts with: a cut on zenith and energy, then the
histogram of lg(E/eV). Four ways to do it over the same N events, side by side:

  store   our Parquet release through dlclab.store.query.select: pyarrow reads only the
          needed columns of the row groups whose statistics can pass the cuts (rows are
          sorted by energy: the energy cut skips most row groups), numpy applies the
          cuts exactly, hist fills
  ascii   the KCDC ASCII export (array.txt) read with pandas (C parser), numpy cut, hist
  root    the KCDC ROOT export (events.root) read with uproot, numpy cut, hist
  numpy   the same two columns already in memory as numpy arrays, numpy cut, hist

Every method must give the same histogram (checked). Inputs are generated once with the
KASCADE simulator (event level, no arrays) and cached under data/bench/; timings are
best-of-k with warm page cache.

    python benchmarks/bench_kascade_select.py                  # 10 million events
    python benchmarks/bench_kascade_select.py --events 1000000 --repeat 5
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
CUTS = {
    # name: (zenith_max_deg, energy_min_eV)
    "Ze<18, E>=1e15 eV (knee region)": (18.0, 1e15),
    "Ze<18, E>=1e14 eV (whole range)": (18.0, 1e14),
}
BINS = np.linspace(14.0, 18.0, 41)
#: bump when the store's file layout changes (the cached store is then rebuilt)
STORE_FORMAT = 4


def _hist():
    import hist

    return hist.Hist(hist.axis.Variable(BINS, name="lgE", label="lg(E/eV)"))


# --------------------------------------------------------------------------- inputs
def build_inputs(n: int, cache: Path, seed: int = 7) -> dict[str, Path]:
    """Simulate ``n`` events once and write the KCDC ASCII and ROOT exports; convert the
    ROOT export into a store release with ``dlclab convert``'s code (each step cached)."""
    from dlclab.store import ReleaseInfo
    from dlclab.store.convert import convert_kcdc_exports

    cache.mkdir(parents=True, exist_ok=True)
    paths = {"store": cache / "root" / "releases" / "kascade" / "BENCH" / "events",
             "ascii": cache / "ascii", "root": cache / "root_export" / "events.root"}
    stamp = cache / "exports.json"
    params = {"events": n, "seed": seed, "format": 2}
    t0 = time.perf_counter()
    if not (stamp.exists() and json.loads(stamp.read_text()) == params
            and paths["ascii"].exists() and paths["root"].exists()):
        from dlclab.formats.kcdc import KcdcAsciiExport, KcdcRootExport
        from dlclab.simulate.kascade import simulate_kascade

        for p in (cache / "ascii", cache / "root_export"):
            shutil.rmtree(p, ignore_errors=True)
        print(f"generating {n:,} KASCADE events (cached in {cache}) ...", flush=True)
        sim = simulate_kascade(n, seed=seed)
        export = sim.to_export(release="BENCH", data_set=f"KASCADE_Bench_{n}")
        export = type(export)(tables={k: v for k, v in export.tables.items() if k != "truth"},
                              info=export.info, stations=None)
        print(f"  simulated in {time.perf_counter() - t0:.0f} s", flush=True)
        KcdcRootExport.write(export, paths["root"].parent)
        print(f"  ROOT export written at {time.perf_counter() - t0:.0f} s", flush=True)
        KcdcAsciiExport.write(export, paths["ascii"])
        print(f"  ASCII export written at {time.perf_counter() - t0:.0f} s", flush=True)
        stamp.write_text(json.dumps(params))
    store_stamp = cache / "store.json"
    store_params = {**params, "converter": STORE_FORMAT}
    if not (store_stamp.exists() and json.loads(store_stamp.read_text()) == store_params
            and paths["store"].exists()):
        shutil.rmtree(cache / "root", ignore_errors=True)
        print("converting the ROOT export into the store ...", flush=True)
        convert_kcdc_exports([paths["root"].parent], cache / "root",
                             ReleaseInfo("kascade", "BENCH", "1"), progress=True)
        print(f"  store written at {time.perf_counter() - t0:.0f} s", flush=True)
        store_stamp.write_text(json.dumps(store_params))
    return paths


# -------------------------------------------------------------------------- methods
def run_store(path: Path, zmax: float, emin: float):
    from dlclab.store.query import select

    cols = select(path, ["energy_eV"], [("zenith_deg", "<", zmax), ("energy_eV", ">=", emin)])
    h = _hist()
    h.fill(lgE=np.log10(cols["energy_eV"]))
    return h


def run_ascii(path: Path, zmax: float, emin: float):
    import pandas as pd

    df = pd.read_csv(path / "array.txt", sep=" ", comment="#", usecols=["E", "Ze"],
                     dtype={"E": "float64", "Ze": "float64"})
    e, ze = df["E"].to_numpy(), df["Ze"].to_numpy()
    h = _hist()
    h.fill(lgE=np.log10(e[(ze < zmax) & (e >= emin)]))
    return h


def run_root(path: Path, zmax: float, emin: float):
    import uproot

    with uproot.open(path) as f:
        tree = f[_root_tree_name(f)]
        names = _root_branches(tree)
        arrays = tree.arrays(names, library="np")
    e, ze = arrays[names[0]], arrays[names[1]]
    h = _hist()
    h.fill(lgE=np.log10(e[(ze < zmax) & (e >= emin)]))
    return h


def _root_tree_name(f) -> str:
    names = [k.split(";")[0] for k, cls in f.classnames().items() if cls == "TTree"]
    return "array" if "array" in names else ("events" if "events" in names else names[0])


def _root_branches(tree) -> list[str]:
    keys = set(tree.keys())
    for e, z in (("E", "Ze"), ("array_E", "array_Ze"), ("array.E", "array.Ze"), ("array/E", "array/Ze")):
        if e in keys and z in keys:
            return [e, z]
    raise KeyError(f"no E/Ze branches in {sorted(keys)[:20]}")


def run_numpy(columns: tuple[np.ndarray, np.ndarray], zmax: float, emin: float):
    e, ze = columns
    h = _hist()
    h.fill(lgE=np.log10(e[(ze < zmax) & (e >= emin)]))
    return h


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of REPEAT (ASCII: 1)")
    parser.add_argument("--cache", type=Path, default=PROJECT / "data" / "bench")
    args = parser.parse_args(argv)
    import uproot

    paths = build_inputs(args.events, args.cache / f"kascade_{args.events}")
    # the in-memory columns in the export's (time) order, as a user would hold them
    with uproot.open(paths["root"]) as f:
        tree = f[_root_tree_name(f)]
        names = _root_branches(tree)
        arrays = tree.arrays(names, library="np")
    columns = (np.ascontiguousarray(arrays[names[0]]), np.ascontiguousarray(arrays[names[1]]))
    del arrays
    size_mb = {k: sum(f.stat().st_size for f in (p.rglob("*") if p.is_dir() else [p]) if f.is_file()) / 1e6
               for k, p in paths.items()}
    print(f"\n{args.events:,} KASCADE events; on disk: store {size_mb['store']:.0f} MB, "
          f"ASCII {size_mb['ascii']:.0f} MB, ROOT {size_mb['root']:.0f} MB\n")
    ok = True
    for label, (zmax, emin) in CUTS.items():
        for fn, arg in ((run_store, paths["store"]), (run_root, paths["root"])):
            fn(arg, zmax, emin)  # warm the page cache and imports
        results = {
            "store": best_of(lambda: run_store(paths["store"], zmax, emin), args.repeat),
            "ascii": best_of(lambda: run_ascii(paths["ascii"], zmax, emin), 1),
            "root": best_of(lambda: run_root(paths["root"], zmax, emin), args.repeat),
            "numpy": best_of(lambda: run_numpy(columns, zmax, emin), args.repeat),
        }
        reference = results["numpy"][1]
        for name, (_, h) in results.items():
            if not np.array_equal(h.values(), reference.values()):
                print(f"  !! {name} histogram differs from numpy's", file=sys.stderr)
                ok = False
        t = {k: v[0] for k, v in results.items()}
        selected = int(reference.values().sum())
        print(f"cut {label}: {selected:,} events selected")
        print(f"  {'method':<8}{'seconds':>10}{'events/s':>14}   ratio")
        for name in ("store", "ascii", "root", "numpy"):
            print(f"  {name:<8}{t[name]:>10.3f}{args.events / t[name]:>14.3g}   "
                  f"{t[name] / t['store']:>6.2f} x store")
        ascii_ratio = t["ascii"] / t["store"]
        numpy_ratio = t["store"] / t["numpy"]
        print(f"  store is {ascii_ratio:.0f}x faster than ASCII (goal >= 20x: "
              f"{'met' if ascii_ratio >= 20 else 'NOT met'}), {t['root'] / t['store']:.1f}x faster "
              f"than ROOT, {numpy_ratio:.2f}x in-memory numpy (goal <= 3x: "
              f"{'met' if numpy_ratio <= 3 else 'NOT met'})\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
