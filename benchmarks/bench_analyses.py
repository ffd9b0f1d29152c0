"""Benchmarks of the analyses (not tests): run as a script, prints each contender side by
side with the ratio.

1. Spectrum input: the lab's store (Parquet, column projection + predicate push-down,
   pandas and dask) against pandas on the KCDC ASCII export (what a DataShop user has):
   read E, Ze, Ne, Nmu of a simulated KASCADE sample, cut on zenith, histogram lg E.
2. IACT inference per image: the CNN (PyTorch, CPU, batched) against the Hillas baseline
   (ctapipe tailcut cleaning + Hillas moments + random forest).
3. Full-size analysis runs through `dlclab run` (papermill + provenance), default parameters.

    python benchmarks/bench_analyses.py            # all, ~1e6 KASCADE events
    python benchmarks/bench_analyses.py --events 200000 --skip-runs
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(fn, repeat: int = 3):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_spectrum_input(n_events: int, workdir: Path) -> None:
    import dask.dataframe as dd
    import pandas as pd

    from dlclab.formats.kcdc.ascii import KcdcAsciiExport
    from dlclab.simulate.kascade import simulate_kascade

    print(f"-- spectrum input: {n_events} simulated KASCADE events")
    sim = simulate_kascade(n_events, seed=7)
    export = sim.to_export(release="BENCH")
    ascii_dir = KcdcAsciiExport.write(export, workdir / "ascii")
    comps = sim.components() if callable(getattr(sim, "components", None)) else sim.components
    a = comps["array"]
    frame = pd.DataFrame({"energy_eV": a["E"], "zenith_deg": a["Ze"], "ne": a["Ne"], "nmu": a["Nmu"],
                          "core_x_m": a["Xc"], "core_y_m": a["Yc"], "azimuth_deg": a["Az"], "age": a["Age"]})
    store = workdir / "store" / "events"
    store.mkdir(parents=True)
    bounds = np.linspace(0, len(frame), 5).astype(int)
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        frame.iloc[lo:hi].to_parquet(store / f"part-{i}.parquet", index=False, row_group_size=128_000)
    edges = np.arange(14.0, 18.01, 0.1)
    cols = ["energy_eV", "zenith_deg", "ne", "nmu"]

    def hist(df):
        sel = df["zenith_deg"] <= 30.0
        return np.histogram(np.log10(df.loc[sel, "energy_eV"]), bins=edges)[0]

    def ascii_pandas():
        # the header lines start with '#', then one line of column names
        arr = pd.read_csv(Path(ascii_dir) / "array.txt", sep=r"\s+", comment="#", usecols=["E", "Ze", "Ne", "Nmu"])
        return hist(arr.rename(columns={"E": "energy_eV", "Ze": "zenith_deg"}))

    def store_pandas():
        return hist(pd.read_parquet(store, columns=cols, filters=[("zenith_deg", "<=", 30.0)]))

    def store_dask():
        df = dd.read_parquet(store, columns=cols, filters=[("zenith_deg", "<=", 30.0)])
        lg = np.log10(df["energy_eV"])
        return np.asarray(lg.map_partitions(lambda s: np.histogram(s, bins=edges)[0].reshape(1, -1)).compute()
                          ).reshape(-1, len(edges) - 1).sum(axis=0)

    t_ascii, h_ascii = timed(ascii_pandas)
    t_pq, h_pq = timed(store_pandas)
    t_dask, h_dask = timed(store_dask)
    assert np.array_equal(h_pq, h_dask), "store readers disagree"
    assert abs(int(h_ascii.sum()) - int(h_pq.sum())) <= n_events * 1e-3, "ASCII and store disagree"
    print(f"   pandas on KCDC ASCII      {t_ascii:8.3f} s   (1.00)")
    print(f"   store: pandas + Parquet   {t_pq:8.3f} s   ({t_ascii / t_pq:5.1f}x faster)")
    print(f"   store: dask + Parquet     {t_dask:8.3f} s   ({t_ascii / t_dask:5.1f}x faster)")


def bench_iact_inference() -> None:
    import torch

    from dlclab.analysis import iact, inputs
    from dlclab.instruments.taiga import iact_ctapipe_geometry

    sample = inputs.iact_images()
    images, is_gamma = sample.images, sample.is_gamma
    n = len(images)
    print(f"-- IACT inference on {n} camera images (1 thread)")
    torch.set_num_threads(1)
    geom = iact_ctapipe_geometry("telescope")
    mapping = iact.square_grid_mapping(geom.pix_x.value, geom.pix_y.value, 32)
    grid = iact.normalise_images(mapping.map(images))
    cnn = iact.train_cnn(grid[:64], is_gamma[:64].astype(np.float32), "classify", seed=1, epochs=1)
    hillas0 = iact.hillas_table(geom, images[:200])
    forests = iact.train_hillas_baseline(hillas0, is_gamma[:200], np.log10(sample.energy_eV[:200]), seed=1, n_trees=100)

    def run_cnn():
        return iact.predict_cnn(cnn, iact.normalise_images(mapping.map(images)), "classify")

    def run_hillas():
        return iact.predict_hillas_baseline(forests, iact.hillas_table(geom, images))[0]

    t_cnn, _ = timed(run_cnn, 2)
    t_h, _ = timed(run_hillas, 1)
    print(f"   Hillas (ctapipe) + RF     {1e3 * t_h / n:8.3f} ms/image   (1.00)")
    print(f"   CNN (PyTorch CPU)         {1e3 * t_cnn / n:8.3f} ms/image   ({t_h / t_cnn:5.1f}x faster)")


def bench_runs(workdir: Path) -> None:
    from dlclab.provenance import run_notebook

    print("-- full-size analysis runs (dlclab run, default parameters, sample release)")
    for name in ("kascade_spectrum", "tunka_spectrum", "arrival_directions", "iact_deep_learning"):
        t0 = time.perf_counter()
        rec = run_notebook(name, {}, output=workdir / "runs" / name)
        dt = time.perf_counter() - t0
        extra = ""
        res = rec.results["results"]
        if name == "kascade_spectrum":
            extra = f"knee {res['knee_energy_eV']['value'] / 1e15:.2f} PeV"
        elif name == "iact_deep_learning":
            extra = (f"AUC CNN {res['roc_auc_cnn']['value']:.3f} vs Hillas {res['roc_auc_hillas']['value']:.3f}, "
                     f"Q {res['q_factor_cnn']['value']:.2f} vs {res['q_factor_hillas']['value']:.2f}")
        print(f"   {name:<22} {dt:8.1f} s   {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="KASCADE events for the input benchmark")
    parser.add_argument("--skip-runs", action="store_true", help="skip the full-size analysis runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-analyses-") as tmp:
        work = Path(tmp)
        bench_spectrum_input(args.events, work)
        bench_iact_inference()
        if not args.skip_runs:
            bench_runs(work)


if __name__ == "__main__":
    main()
