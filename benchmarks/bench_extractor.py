#!/usr/bin/env python
"""Extractor throughput over a generated release of >= 10 GB equivalent, against reading
the same files with the Kaitai-generated Python parsers.

Files are generated on the fly (Tunka-133 and TAIGA-IACT alternately, --file-mb each,
written by dlclab's writers into ``<facility>/<date>/<name>.NNN``), extracted one by one
into an SQLite catalogue (sha256, .ksy-driven bulk decode, meta-data fields, event
summaries, one transaction per file) and deleted, so the disk holds one file at a time.
Only the extraction is timed. The competitor parses the same bytes with the parsers the
official Kaitai compiler (npm, `make node`) generates from the same .ksy; it runs at a few
MB/s, so it parses a prefix of the first file of each facility (--kaitai-mb) and its
rate is extrapolated to the release. The Kaitai side only parses: it computes no
checksum and writes no catalogue, so the ratio understates the difference.

usage:  .venv/bin/python benchmarks/bench_extractor.py [--gb 10] [--file-mb 100] [--kaitai-mb 8]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import shutil
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from dlclab.formats import taiga  # noqa: E402
from dlclab.metadata.db import open_catalogue  # noqa: E402
from dlclab.metadata.extractor import Extractor, StorageSpec  # noqa: E402

KSY_DIR = PROJECT / "src" / "dlclab" / "formats" / "taiga" / "ksy"
LINK_BYTES = 33318
IACT_BYTES = 156


def kaitai_parser(name: str) -> type:
    node = shutil.which("node")
    if not node or not (PROJECT / "node_modules" / "kaitai-struct-compiler").is_dir():
        sys.exit("the Kaitai compiler is missing: run `make node`")
    files = sorted(KSY_DIR.glob("*.ksy"))
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]
    out_dir = PROJECT / "build" / "kaitai" / digest
    if not (out_dir / f"{name}.py").exists():
        subprocess.run([node, str(PROJECT / "tests" / "formats" / "ksc_compile.js"), str(out_dir),
                        *map(str, files)], check=True, capture_output=True)
    if str(out_dir) not in sys.path:
        sys.path.insert(0, str(out_dir))
    return getattr(importlib.import_module(name), "".join(p.capitalize() for p in name.split("_")))


class Generator:
    """Writes file k of the release: the same sample arrays, event numbers shifted by k
    (so every file has its own content and checksum)."""

    def __init__(self, file_mb: float, rng: np.random.Generator) -> None:
        self.n_links = max(1, int(file_mb * 1e6 // LINK_BYTES))
        self.fadc = rng.integers(1900, 4096, (self.n_links, 32, 512), dtype=np.uint16)
        self.t_links = np.sort(rng.integers(0, 86_400 * 10**9, self.n_links)) // 10**6 * 10**6
        self.n_iact = max(1, int(file_mb * 1e6 // IACT_BYTES))
        self.t_iact = np.sort(rng.integers(0, 86_400 * 10**9, self.n_iact)) // 10 * 10
        self.hg = rng.integers(0, 8000, (self.n_iact, 32), dtype=np.uint16)
        self.lg = rng.integers(0, 1800, (self.n_iact, 32), dtype=np.uint16)

    def write(self, root: Path, k: int) -> tuple[str, Path]:
        day = f"2013-01-{5 + k // 200:02d}"
        if k % 2 == 0:
            path = root / "tunka133" / day / f"cluster{k % 25 + 1:02d}.{k % 1000:03d}"
            path.parent.mkdir(parents=True, exist_ok=True)
            taiga.write_tunka133(path, event_number=np.arange(self.n_links) + k * self.n_links,
                                 time_ns=self.t_links, fadc=self.fadc, cluster=k % 25 + 1)
            return "tunka133", path
        path = root / "taiga_iact" / day / f"iact.{k % 1000:03d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        taiga.write_taiga_iact(path, event_number=np.arange(self.n_iact) // 20 + k * self.n_iact,
                               time_ns=self.t_iact, board=np.arange(self.n_iact) % 20,
                               high_gain=self.hg, low_gain=self.lg)
        return "taiga_iact", path


def kaitai_rate(name: str, path: Path, limit_mb: float) -> float:
    from kaitaistruct import KaitaiStream

    record = LINK_BYTES if name == "tunka133" else IACT_BYTES
    cut = int(limit_mb * 2**20) // record * record
    with open(path, "rb") as f:
        data = f.read(cut)
    parser = kaitai_parser(name)
    start = time.perf_counter()
    parsed = parser(KaitaiStream(BytesIO(data)))
    elapsed = time.perf_counter() - start
    assert parsed
    return len(data) / elapsed / 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gb", type=float, default=10.0, help="size of the generated release")
    p.add_argument("--file-mb", type=float, default=100.0, help="size of each file")
    p.add_argument("--kaitai-mb", type=float, default=8.0, help="MB the Kaitai parser reads per facility")
    args = p.parse_args()
    n_files = int(np.ceil(args.gb * 1e3 / args.file_mb))
    gen = Generator(args.file_mb, np.random.default_rng(1))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "storage"
        root.mkdir()
        engine = open_catalogue(f"sqlite:///{Path(tmp) / 'catalogue.sqlite'}")
        extractor = Extractor(engine, StorageSpec("bench", root, "taiga", access="taiga"))
        timed = {"tunka133": [0.0, 0, 0], "taiga_iact": [0.0, 0, 0]}  # seconds, bytes, files
        kaitai = {}
        total_s, total_bytes = 0.0, 0
        for k in range(n_files):
            name, path = gen.write(root, k)
            (cand,), _ = extractor.candidates()
            start = time.perf_counter()
            outcome, error = extractor.extract(cand)
            elapsed = time.perf_counter() - start
            assert outcome == "new" and error is None, error
            timed[name][0] += elapsed
            timed[name][1] += cand.size_bytes
            timed[name][2] += 1
            total_s += elapsed
            total_bytes += cand.size_bytes
            if name not in kaitai:
                kaitai[name] = kaitai_rate(name, path, args.kaitai_mb)
            path.unlink()
            print(f"\r  {k + 1}/{n_files} files, {total_bytes / 1e9:.1f} GB, "
                  f"{total_bytes / total_s / 1e6:.0f} MB/s", end="", flush=True)
        print()
        engine.dispose()
    print(f"release: {n_files} files, {total_bytes / 1e9:.2f} GB (generated, extracted, deleted)")
    print(f"{'facility':<12} {'files':>6} {'GB':>7} {'extractor files/s':>18} {'MB/s':>8} "
          f"{'Kaitai MB/s':>12} {'ratio':>7}")
    kaitai_total_s = 0.0
    for name, (secs, size, count) in timed.items():
        kaitai_total_s += size / 1e6 / kaitai[name]
        print(f"{name:<12} {count:>6} {size / 1e9:>7.2f} {count / secs:>18.2f} {size / secs / 1e6:>8.0f} "
              f"{kaitai[name]:>12.2f} {size / secs / 1e6 / kaitai[name]:>6.0f}x")
    print(f"{'all':<12} {n_files:>6} {total_bytes / 1e9:>7.2f} {n_files / total_s:>18.2f} "
          f"{total_bytes / total_s / 1e6:>8.0f} {total_bytes / kaitai_total_s / 1e6:>12.2f} "
          f"{kaitai_total_s / total_s:>6.0f}x")
    print(f"the release takes {total_s:.0f} s to extract; the Kaitai parsers would need about "
          f"{kaitai_total_s / 3600:.1f} h to read it")


if __name__ == "__main__":
    main()
