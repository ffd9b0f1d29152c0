#!/usr/bin/env python
"""Reading through root:// against the local file system, MB/s side by side.

Starts the lab's storage servers (src/dlclab/storage/instances.yaml) on the checkout's
data root (free loopback ports, state in a temporary folder) and reads
  tunka133   every Tunka-133 raw file of data/raw/taiga/tunka133 as bytes: locally
             (Path.read_bytes) and through isu-taiga's sss server with the service's
             key, the way the aggregation service reads (dlclab.service.adapters)
  kcdc-root  every KASCADE ROOT export of data/raw/kcdc, all branches of all trees with
             uproot: locally and through kit-kascade's anonymous server
  export     the aggregation service's export (HDF5, everything a TAIGA member sees:
             TAIGA raw files of isu-taiga and KASCADE releases of kit-kascade) from a
             catalogue whose storage URLs are file:// and then the servers' root:// URLs;
             MB are the bytes of the files read, rates per wall-clock second
Each is the best of --repeat runs (page cache warm for both sides: the loopback transport
and the server are what is measured, not the disk).

usage:  .venv/bin/python benchmarks/bench_xrootd.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import shutil
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


def export_row(data_root: Path, isu, kit, repeat: int) -> tuple:
    from datetime import timedelta

    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from dlclab.metadata.db import open_catalogue
    from dlclab.metadata.extractor import Extractor, StorageSpec
    from dlclab.metadata.models import DataFile, StorageInstance
    from dlclab.metadata.query import FileQuery
    from dlclab.service.exports import ExportManager
    from dlclab.service.quota import Quota

    with tempfile.TemporaryDirectory(prefix="bench-xrootd-export-") as tmp:
        engine = open_catalogue(f"sqlite:///{tmp}/catalogue.sqlite")
        # the extractor wants the releases folder (experiment/release/...); a copy of the
        # KASCADE part only, whose paths are the server's below /releases
        kascade = Path(tmp) / "releases"
        shutil.copytree(data_root / "releases/kascade", kascade / "kascade")
        storages = {"isu-taiga": (data_root / "raw/taiga", "taiga", "taiga",
                                  f"{isu.url}/raw/taiga/"),
                    "kit-kascade": (kascade, "kascade", "public", f"{kit.url}/releases/")}
        for name, (root, experiment, access, _) in storages.items():
            Extractor(engine, StorageSpec(name, root, experiment, access=access)).run()
        with Session(engine) as s:
            n_bytes = sum(s.scalars(select(DataFile.size_bytes)).all())

        def export() -> None:
            manager = ExportManager(engine, Path(tmp) / "exports", timedelta(hours=1), 1,
                                    10**9, Quota(10**6, 1 << 50))
            request = manager.submit("bench", frozenset({"taiga"}), {"format": "HDF5"},
                                     FileQuery(), [], [])
            manager.shutdown()  # waits for the export
            with Session(engine) as s:
                from dlclab.metadata.models import ExportRequest
                done = s.get(ExportRequest, request.id)
                if done.status != "done":
                    sys.exit(f"export failed: {done.error}")

        local = best_rate(export, n_bytes, repeat)
        with Session(engine) as s, s.begin():
            for name, (*_, url) in storages.items():
                s.execute(update(StorageInstance).where(StorageInstance.name == name)
                          .values(url=url))
        remote = best_rate(export, n_bytes, repeat)
        with Session(engine) as s:
            n_files = len(s.scalars(select(DataFile.id)).all())
        engine.dispose()
    return ("export, 2 instances", n_files, n_bytes, local, remote)


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
            rows.append(export_row(data_root, isu, kit, max(1, args.repeat // 2)))
    print(f"{'what':<20} {'files':>5} {'MB':>7} {'local MB/s':>11} {'root:// MB/s':>13} "
          f"{'ratio':>6}")
    for what, n_files, n_bytes, local, remote in rows:
        print(f"{what:<20} {n_files:>5} {n_bytes / 1e6:>7.1f} {local:>11.1f} {remote:>13.1f} "
              f"{remote / local:>6.2f}")


if __name__ == "__main__":
    main()
