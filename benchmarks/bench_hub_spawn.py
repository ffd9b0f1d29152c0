"""Spawn times of the lab's hub: isolated system users (LocalProcessSpawner, LocalBackend)
against the competitor without isolation (SimpleLocalProcessSpawner, UnsafeLocalBackend).

Measures, for each hub:
  * start server -> ready lab (hub says ready and GET /user/<name>/lab answers 200),
    median of --repeats sequential spawns;
  * --concurrent users spawned at once: time until all labs are ready;
  * a dask-gateway cluster with 2 workers: new_cluster() -> 2 workers connected, median.

Run as root (system users): ``.venv/bin/python benchmarks/bench_hub_spawn.py``
(options: --repeats 3 --concurrent 20 --dask-repeats 3).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hub_harness import LabHub  # noqa: E402

DASK_CODE = """
import time
from dask_gateway import Gateway
t0 = time.perf_counter()
cluster = Gateway().new_cluster()
cluster.scale(2)
client = cluster.get_client()
client.wait_for_workers(2, timeout=300)
print(time.perf_counter() - t0)
client.close(); cluster.shutdown()
"""


def lab_ready(hub: LabHub, short: str) -> bool:
    if not hub.admin.server_ready(hub.user(short).name):
        return False
    resp = httpx.get(hub.server_url(short) + "/lab",
                     headers={"Authorization": f"token {hub.token(short)}"}, timeout=30)
    return resp.status_code == 200


def measure(isolated: bool, repeats: int, concurrent: int, dask_repeats: int) -> dict:
    users = {f"u{i:02d}": ["students"] for i in range(max(concurrent, 1))}
    with LabHub(users=users, settings={"isolated": isolated}) as hub:
        first = "u00"
        singles = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            hub.admin.start_server(hub.user(first).name)
            hub.admin.wait(lambda: lab_ready(hub, first), "lab ready", timeout_s=300, poll_s=0.1)
            singles.append(time.perf_counter() - t0)
            hub.stop_server(first)

        t0 = time.perf_counter()
        for short in users:
            hub.admin.start_server(hub.user(short).name)
        pending = set(users)
        deadline = time.monotonic() + 600
        while pending and time.monotonic() < deadline:
            pending = {u for u in pending if not lab_ready(hub, u)}
            time.sleep(0.2)
        all_ready = time.perf_counter() - t0 if not pending else float("nan")
        for short in users:
            if short != first:
                hub.admin.stop_server(hub.user(short).name)

        with hub.kernel(first) as kernel:
            dask = [float(kernel.execute(DASK_CODE).split()[-1]) for _ in range(dask_repeats)]
        hub.remember_processes()
    hub.assert_nothing_left()
    return {"spawn_median_s": statistics.median(singles), "spawn_all_s": singles,
            "concurrent_all_ready_s": all_ready, "dask_2_workers_median_s": statistics.median(dask)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--dask-repeats", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for label, isolated in (("dlclab (isolated system users)", True),
                            ("competitor: SimpleLocalProcessSpawner (no isolation)", False)):
        print(f"== {label} ...", flush=True)
        results[label] = measure(isolated, args.repeats, args.concurrent, args.dask_repeats)
        print("   ", results[label], flush=True)
    ours, theirs = results.values()
    print()
    print(f"{'measure':42s} {'dlclab':>10s} {'competitor':>11s} {'ratio':>7s}")
    for key, title in (("spawn_median_s", "start server -> ready lab, median (s)"),
                       ("concurrent_all_ready_s", f"{args.concurrent} users at once, all ready (s)"),
                       ("dask_2_workers_median_s", "dask-gateway cluster, 2 workers (s)")):
        print(f"{title:42s} {ours[key]:10.2f} {theirs[key]:11.2f} {ours[key] / theirs[key]:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
