#!/usr/bin/env python
"""Reading through root:// against the local file system, MB/s side by side.

Starts the lab's storage servers (src/dlclab/storage/instances.yaml) on the checkout's
data root (free loopback ports, state in a temporary folder) and reads
  tunka133   every Tunka-133 raw file of data/raw/taiga/tunka133 as bytes: locally
             (Path.read_bytes) and through isu-taiga's sss server with the service's
             key, the way the aggregation service reads (dlclab.service.adapters)
  kcdc-root  every KASCADE ROOT export of data/raw/kcdc, all branches of all trees with
             uproot: locally and through kit-kascade's anonymous server
Each is the best of --repeat runs (page cache warm for both sides: the loopback transport
and the server are what is measured, not the disk).

usage:  .venv/bin/python benchmarks/bench_xrootd.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from dlclab import config  # noqa: E402
from dlclab.service.adapters import StorageAdapter, configure_xrootd  # noqa: E402
from dlclab.storage.config import load_instances  # noqa: E402
from dlclab.storage.lab import StorageLab  # noqa: E402


def best_rate(action, n_bytes: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - t0)
    return n_bytes / best / 1e6


def read_tree_arrays(source) -> None:
    import uproot

    with uproot.open(source) as f:
        for key, cls in f.classnames().items():
            if cls == "TTree":
                f[key].arrays(library="np")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    data_root = config.data_root().resolve()
    raw = sorted(q for q in (data_root / "raw/taiga/tunka133").rglob("*") if q.is_file())
    roots = sorted((data_root / "raw/kcdc").rglob("*.root"))
    if not raw or not roots:
        sys.exit(f"no Tunka-133 raw files or KCDC ROOT exports below {data_root}: make data")
    with tempfile.TemporaryDirectory(prefix="bench-xrootd-") as tmp:
        state = Path(tmp)
        state.chmod(0o755)
        with StorageLab(load_instances(data_root), state) as lab:
            configure_xrootd(lab.keys_dir / "dlclab-service.keytab")
            isu, kit = lab.server("isu-taiga"), lab.server("kit-kascade-public")
            rows = []
            adapter = StorageAdapter(f"{isu.url}/raw/taiga/tunka133/")
            rels = [q.relative_to(data_root / "raw/taiga/tunka133").as_posix() for q in raw]
            n = sum(q.stat().st_size for q in raw)
            local = best_rate(lambda: [q.read_bytes() for q in raw], n, args.repeat)
            remote = best_rate(lambda: [adapter.read_bytes(r) for r in rels], n, args.repeat)
            rows.append(("tunka133 raw bytes", len(raw), n, local, remote))
            urls = [f"{kit.url}/{q.relative_to(data_root).as_posix()}" for q in roots]
            n = sum(q.stat().st_size for q in roots)
            local = best_rate(lambda: [read_tree_arrays(q) for q in roots], n, args.repeat)
            remote = best_rate(lambda: [read_tree_arrays(u) for u in urls], n, args.repeat)
            rows.append(("kcdc ROOT, uproot", len(roots), n, local, remote))
    print(f"{'what':<20} {'files':>5} {'MB':>7} {'local MB/s':>11} {'root:// MB/s':>13} "
          f"{'ratio':>6}")
    for what, n_files, n_bytes, local, remote in rows:
        print(f"{what:<20} {n_files:>5} {n_bytes / 1e6:>7.1f} {local:>11.1f} {remote:>13.1f} "
              f"{remote / local:>6.2f}")


if __name__ == "__main__":
    main()
