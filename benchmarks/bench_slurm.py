"""The lab on Slurm against the one-machine lab: time to a ready server and to a dask
cluster with 2 workers.

Two hubs, one after the other, both isolated (root, system users):
  * one machine: LocalProcessSpawner, dask-gateway's LocalBackend (``make lab``);
  * Slurm: each server and each scheduler/worker a Slurm job of its owner on a local test
    cluster (dlclab.batch.localslurm; ``make lab BATCH=slurm``).

Measures start server -> lab answers (median of --repeats) and new_cluster() -> 2 workers
connected (median of --dask-repeats), and prints the Slurm/one-machine ratios. The
local cluster's start is measured too (munged + slurmctld + 2 slurmd until idle).

Run as root: ``.venv/bin/python benchmarks/bench_slurm.py`` (--repeats 3 --dask-repeats 3).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_hub_spawn import DASK_CODE, lab_ready
from tests.hub_harness import LabHub

from dlclab.batch.localslurm import LocalSlurm, LocalSlurmConfig


def measure(settings: dict, repeats: int, dask_repeats: int) -> dict:
    with LabHub(users={"u": ["students"]}, settings=settings) as hub:
        spawns = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            hub.admin.start_server(hub.user("u").name)
            hub.admin.wait(lambda: lab_ready(hub, "u"), "lab ready", timeout_s=300, poll_s=0.1)
            spawns.append(time.perf_counter() - t0)
            hub.stop_server("u", timeout_s=120)
        hub.start_server("u", timeout_s=300)
        with hub.kernel("u") as kernel:
            dask = [float(kernel.execute(DASK_CODE).split()[-1]) for _ in range(dask_repeats)]
        hub.stop_server("u", timeout_s=120)
        hub.remember_processes()
    hub.assert_nothing_left()
    return {"spawn_median_s": statistics.median(spawns), "spawns_s": spawns,
            "dask_2_workers_median_s": statistics.median(dask), "dask_s": dask}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dask-repeats", type=int, default=3)
    args = parser.parse_args()

    local = measure({}, args.repeats, args.dask_repeats)
    state = Path(tempfile.mkdtemp(prefix="dlclab-slurm-bench-"))
    try:
        cluster = LocalSlurm(LocalSlurmConfig(state_dir=state))
        t0 = time.perf_counter()
        with cluster:
            cluster_start_s = time.perf_counter() - t0
            slurm = measure(cluster.lab_settings(), args.repeats, args.dask_repeats)
    finally:
        shutil.rmtree(state, ignore_errors=True)

    print(f"local Slurm cluster up (munged, slurmctld, 2 slurmd idle): {cluster_start_s:.2f} s")
    print(f"{'':32s}{'one machine':>14s}{'Slurm':>10s}{'ratio':>8s}")
    for key, label in (("spawn_median_s", "server start -> lab ready (s)"),
                       ("dask_2_workers_median_s", "2-worker dask cluster (s)")):
        print(f"{label:32s}{local[key]:14.2f}{slurm[key]:10.2f}{slurm[key] / local[key]:8.2f}")
    print(f"(runs: one machine {local['spawns_s']} / {local['dask_s']}; "
          f"Slurm {slurm['spawns_s']} / {slurm['dask_s']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
