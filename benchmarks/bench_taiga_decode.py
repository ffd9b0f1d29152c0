#!/usr/bin/env python
"""TAIGA decoding throughput: dlclab's bulk reader vs the Kaitai-generated Python parser.

Both decode the same bytes from the page cache into usable values:
  dlclab   read_file() (memory map, .ksy-derived numpy dtype, all layout checks)
           + the event table + the sample arrays made contiguous (a real copy)
  Kaitai   the parser the official compiler (npm kaitai-struct-compiler, `make node`)
           generates from the same .ksy, parsing every package into objects.
The Kaitai parser runs at a few MB/s, so on the large generated files it parses a
prefix (--kaitai-mb, default 8 MB) and its rate is taken from that prefix.

usage:  .venv/bin/python benchmarks/bench_taiga_decode.py [--repeat 7] [--kaitai-mb 8]
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

from dlclab import config  # noqa: E402
from dlclab.formats import taiga  # noqa: E402

KSY_DIR = PROJECT / "src" / "dlclab" / "formats" / "taiga" / "ksy"
SAMPLES = {"tunka133": "fadc", "tunka_rex": "fadc", "tunka_grande": "samples",
           "taiga_iact": "high_gain", "taiga_hiscore": "traces"}


def kaitai_parsers() -> dict[str, type]:
    node = shutil.which("node")
    if not node or not (PROJECT / "node_modules" / "kaitai-struct-compiler").is_dir():
        sys.exit("the Kaitai compiler is missing: run `make node`")
    files = sorted(KSY_DIR.glob("*.ksy"))
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]
    out_dir = PROJECT / "build" / "kaitai" / digest
    if not (out_dir / "tunka133.py").exists():
        subprocess.run([node, str(PROJECT / "tests" / "formats" / "ksc_compile.js"), str(out_dir),
                        *map(str, files)], check=True, capture_output=True)
    sys.path.insert(0, str(out_dir))
    return {f: getattr(importlib.import_module(f), "".join(p.capitalize() for p in f.split("_")))
            for f in taiga.FORMATS}


def generate(root: Path, rng: np.random.Generator) -> dict[str, Path]:
    """Larger files written by our writers (random samples; the content does not matter here)."""
    files = {}
    n = 2000
    t = np.sort(rng.integers(0, 86_400 * 10**9, n)) // 10**6 * 10**6
    files["tunka133 (generated)"] = root / "t133_big.001"
    taiga.write_tunka133(files["tunka133 (generated)"], event_number=np.arange(n), time_ns=t,
                         fadc=rng.integers(1900, 4096, (n, 32, 512), dtype=np.uint16), cluster=3)
    m = 200_000
    files["taiga_iact (generated)"] = root / "iact_big.001"
    taiga.write_taiga_iact(files["taiga_iact (generated)"], event_number=np.arange(m) // 20,
                           time_ns=np.sort(rng.integers(0, 86_400 * 10**9, m)) // 10 * 10,
                           board=np.arange(m) % 20, high_gain=rng.integers(0, 8000, (m, 32), dtype=np.uint16),
                           low_gain=rng.integers(0, 1800, (m, 32), dtype=np.uint16))
    k = 2000
    files["tunka_grande (generated)"] = root / "grande_big.001"
    taiga.write_tunka_grande(files["tunka_grande (generated)"], event_number=np.arange(k),
                             time_ns=np.sort(rng.integers(0, 86_400 * 10**9, k)) // 10 * 10,
                             samples=rng.integers(0, 4096, (k, 8, 1024), dtype=np.uint16), cluster=5)
    h = 40_000
    files["taiga_hiscore (generated)"] = root / "hiscore_big.001"
    taiga.write_taiga_hiscore(files["taiga_hiscore (generated)"], event_number=np.arange(h),
                              time_ns=np.sort(rng.integers(0, 86_400 * 10**9, h)) // 10 * 10,
                              station=rng.integers(1, 120, h),
                              traces=rng.integers(0, 4096, (h, 9, 64), dtype=np.uint16),
                              offsets=rng.integers(0, 1000, (h, 9)))
    return files


def ours(path: Path) -> float:
    start = time.perf_counter()
    data = taiga.read_file(path)
    events = data.events
    samples = np.ascontiguousarray(getattr(data, SAMPLES[data.format]))
    elapsed = time.perf_counter() - start
    assert len(events) and samples.size
    return elapsed


def kaitai(parser: type, data: bytes) -> float:
    from kaitaistruct import KaitaiStream

    start = time.perf_counter()
    parsed = parser(KaitaiStream(BytesIO(data)))
    elapsed = time.perf_counter() - start
    assert parsed
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs of our reader (best is kept)")
    parser.add_argument("--kaitai-mb", type=float, default=8.0, help="MB the Kaitai parser reads at most")
    args = parser.parse_args()
    parsers = kaitai_parsers()
    fixtures = config.shared_fixtures()
    files: dict[str, Path] = {}
    if fixtures:
        files["tunka133 (real t133.001)"] = fixtures / "taiga" / "t133.001"
        files["taiga_iact (real iact.001)"] = fixtures / "taiga" / "iact.001"
    with tempfile.TemporaryDirectory() as tmp:
        files.update(generate(Path(tmp), np.random.default_rng(1)))
        print(f"{'file':<28} {'MB':>7} {'dlclab MB/s':>12} {'Kaitai MB/s':>12} {'ratio':>8}")
        results = {}
        for label, path in files.items():
            size = path.stat().st_size
            ours(path)  # warm the page cache and the imports
            best = min(ours(path) for _ in range(args.repeat))
            fmt = taiga.read_file(path).format
            whole = path.read_bytes()
            limit = int(args.kaitai_mb * 2**20)
            if len(whole) > limit:
                if fmt == "taiga_hiscore":  # cut at a package end (found by our reader)
                    packages = taiga.read_file(path).packages
                    ends = np.cumsum(24 + packages["package_size"].astype(np.int64))
                    cut = int(ends[ends <= limit][-1])
                else:
                    record = taiga.reader_for(path, fmt).layout.record.dtype.itemsize
                    cut = limit // record * record
                sample = whole[:cut]
            else:
                sample = whole
            kt = kaitai(parsers[fmt], sample)
            ours_mb_s = size / best / 1e6
            kaitai_mb_s = len(sample) / kt / 1e6
            results[label] = (ours_mb_s, kaitai_mb_s)
            print(f"{label:<28} {size / 1e6:>7.1f} {ours_mb_s:>12.0f} {kaitai_mb_s:>12.2f} "
                  f"{ours_mb_s / kaitai_mb_s:>7.0f}x")
    if "tunka133 (real t133.001)" in results:
        o, k = results["tunka133 (real t133.001)"]
        print(f"\ngoals on the real Tunka-133 sample: >= 1000 MB/s: {'met' if o >= 1000 else 'NOT met'} "
              f"({o:.0f}); >= 100x Kaitai: {'met' if o / k >= 100 else 'NOT met'} ({o / k:.0f}x)")


if __name__ == "__main__":
    main()
