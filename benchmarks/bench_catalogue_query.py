#!/usr/bin/env python
"""Catalogue query latency at scale: 1 million file records, 100 million events summarised.

Loads a synthetic catalogue (the schema of the alembic head; files of 25 clusters and 20
HiSCORE stations over ten years, 100 events each, energy and zenith summaries per file)
into SQLite and into a throwaway database on the PostgreSQL server, then times the
service's own query function (``dlclab.metadata.query.query_files``, visibility included)
for file-level and event-level queries, and prints p50/p95 per backend side by side.
Goal: p95 < 50 ms for file-level queries on both.

usage:  .venv/bin/python benchmarks/bench_catalogue_query.py [--files 1000000] [--queries 200]
        [--no-postgres]
"""
from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dlclab.metadata.db import open_catalogue  # noqa: E402
from dlclab.metadata.models import (  # noqa: E402
    AccessGroup, Facility, Release, StorageInstance, ThesaurusTerm)
from dlclab.metadata.query import FileQuery, parse_cut, query_files, visibility  # noqa: E402

EVENTS_PER_FILE = 100
T0 = datetime(2010, 1, 1)
SPAN_DAYS = 3650
CHUNK = 50_000


def populate(engine, n_files: int, rng: np.random.Generator) -> None:
    with Session(engine) as s, s.begin():
        groups = dict(s.execute(select(AccessGroup.name, AccessGroup.id)).all())
        storages = [StorageInstance(name=f"s{i}", url=f"file:///srv/s{i}", experiment="taiga",
                                    access_group_id=groups["taiga" if i == 0 else "public"])
                    for i in range(3)]
        facilities = [Facility(name=n, experiment="taiga") for n in
                      ("tunka133", "tunka_rex", "tunka_grande", "taiga_iact", "taiga_hiscore")]
        releases = [Release(experiment="taiga", name=f"R{i}", access_group_id=groups["public"])
                    for i in range(10)]
        s.add_all(storages + facilities + releases)
        s.flush()
        storage_ids = [x.id for x in storages]
        facility_ids = [x.id for x in facilities]
        release_ids = [x.id for x in releases]
        terms = dict(s.execute(select(ThesaurusTerm.name, ThesaurusTerm.id)).all())
    start_s = np.sort(rng.uniform(0, SPAN_DAYS * 86400, n_files))
    span_s = rng.uniform(600, 4 * 3600, n_files)  # raw files: 10 min to 4 h
    facility = rng.integers(0, 5, n_files)
    lg_e_min = rng.uniform(14, 16.5, n_files)
    sqlite = engine.dialect.name == "sqlite"
    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        for lo in range(0, n_files, CHUNK):
            hi = min(n_files, lo + CHUNK)
            ids = np.arange(lo + 1, hi + 1)
            start = np.datetime64(T0) + (start_s[lo:hi] * 1e6).astype("timedelta64[us]")
            end = start + (span_s[lo:hi] * 1e6).astype("timedelta64[us]")
            day = start.astype("datetime64[D]")
            fmt = (lambda a: np.char.replace(np.datetime_as_string(a, unit="us"), "T", " ").tolist())
            starts, ends, days = fmt(start), fmt(end), np.datetime_as_string(day).tolist()
            fac = facility[lo:hi]
            i = ids - 1
            cluster = [None if f == 4 else int(c) for f, c in zip(fac, i % 25)]
            station = [int(c) if f == 4 else None for f, c in zip(fac, i % 20)]
            uuids = [str(uuid.UUID(int=(int(x) << 64) | int(k), version=4))
                     for x, k in zip(rng.integers(0, 2**62, hi - lo), ids)]
            paths = [f"f/{d}/{k}.{k % 1000:03d}" for d, k in zip(days, ids)]
            release = [release_ids[k % 10] if k % 2 else None for k in i]
            files = list(zip(ids.tolist(), uuids, [storage_ids[k % 3] for k in i], paths,
                             [facility_ids[f] for f in fac], release, days,
                             (i % 1000).tolist(), [1] * len(i), starts, ends,
                             span_s[lo:hi].tolist(), cluster, station,
                             [EVENTS_PER_FILE] * len(i), [33318 * EVENTS_PER_FILE] * len(i),
                             ["ok"] * len(i)))
            versions = list(zip(ids.tolist(), ids.tolist(), [1] * len(i), ["E1"] * len(i),
                                [f"{k:064x}" for k in ids], [33318 * EVENTS_PER_FILE] * len(i),
                                [0] * len(i), starts, ["ok"] * len(i),
                                [EVENTS_PER_FILE] * len(i), starts, ends, ["{}"] * len(i)))
            e_lo = 10 ** lg_e_min[lo:hi]
            true = 1 if sqlite else True
            summaries = [(k, k, terms["energy"], EVENTS_PER_FILE, float(e), float(e) * 30, true)
                         for k, e in zip(ids.tolist(), e_lo)]
            summaries += [(k, k, terms["zenith"], EVENTS_PER_FILE, 0.5, 45.0, true)
                          for k in ids.tolist()]
            tables = [
                ("data_file", "id, uuid, storage_id, path, facility_id, release_id, date, "
                 "sequence_number, current_version, start_utc, end_utc, span_s, cluster, station, "
                 "n_events, size_bytes, status", files),
                ("file_version", "id, file_id, version, path_kind, sha256, size_bytes, mtime_ns, "
                 "extracted_utc, status, n_events, start_utc, end_utc, attributes", versions),
                ("event_summary", "file_version_id, file_id, term_id, n, min_value, max_value, "
                 "current", summaries)]
            cursor = raw.cursor()
            for table, columns, rows in tables:
                if sqlite:
                    marks = ", ".join("?" * len(rows[0]))
                    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
                else:
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            raw.commit()
            print(f"\r  loaded {hi:,} files ({time.perf_counter() - t0:.0f} s)", end="", flush=True)
    finally:
        raw.close()
    print()
    with engine.begin() as conn:
        if not sqlite:  # ids were given explicitly: move the sequences past them
            for table in ("data_file", "file_version", "event_summary"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))


def workloads(rng: np.random.Generator, n: int) -> dict[str, list[FileQuery]]:
    def day() -> datetime:
        return T0 + timedelta(days=float(rng.uniform(0, SPAN_DAYS - 1)))

    def window() -> tuple[datetime, datetime]:
        d = day()
        return d, d + timedelta(hours=float(rng.uniform(1, 24)))

    out: dict[str, list[FileQuery]] = {
        "file: time window (1-24 h)": [], "file: window + facility": [],
        "file: cluster (no window)": [], "file: station + window": [],
        "file: release + window": [], "event: energy cut + window": [],
        "event: energy cut + zenith cut": []}
    for _ in range(n):
        a, b = window()
        out["file: time window (1-24 h)"].append(FileQuery(start=a, end=b))
        a, b = window()
        out["file: window + facility"].append(FileQuery(start=a, end=b, facility=["tunka133"]))
        out["file: cluster (no window)"].append(FileQuery(cluster=int(rng.integers(0, 25)),
                                                          start=day()))
        a, b = window()
        out["file: station + window"].append(FileQuery(station=int(rng.integers(0, 20)),
                                                       start=a, end=b + timedelta(days=30)))
        a, b = window()
        out["file: release + window"].append(FileQuery(release=f"R{int(rng.integers(0, 10))}",
                                                       start=a, end=b))
        a, b = window()
        out["event: energy cut + window"].append(FileQuery(start=a, end=b, cuts=[
            parse_cut(f"energy:{10 ** rng.uniform(15, 17):.3g}:")]))
        out["event: energy cut + zenith cut"].append(FileQuery(start=day(), cuts=[
            parse_cut(f"energy:{10 ** rng.uniform(15, 17):.3g}:"), parse_cut("zenith::30")]))
    return out


def measure(engine, queries: dict[str, list[FileQuery]]) -> dict[str, tuple[float, float, float]]:
    results = {}
    for name, qs in queries.items():
        times, hits = [], []
        for q in qs[:5]:  # warm the caches
            with Session(engine) as s:
                query_files(s, q, visibility(s, {"taiga"}))
        for q in qs:
            t = time.perf_counter()
            with Session(engine) as s:
                rows, _ = query_files(s, q, visibility(s, {"taiga"}))
            times.append((time.perf_counter() - t) * 1000)
            hits.append(len(rows))
        times.sort()
        results[name] = (statistics.median(times), times[int(0.95 * (len(times) - 1))],
                         statistics.mean(hits))
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--no-sqlite", action="store_true")
    args = p.parse_args()
    print(f"catalogue: {args.files:,} files, {args.files * EVENTS_PER_FILE:,} events summarised "
          f"(energy, zenith per file); {args.queries} queries per workload, 100 rows a page")
    backends: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        if args.no_sqlite:
            url = None
        if url:
            print("SQLite:")
            engine = open_catalogue(url)
            populate(engine, args.files, np.random.default_rng(1))
            backends["SQLite"] = measure(engine, workloads(np.random.default_rng(2), args.queries))
            engine.dispose()
    if not args.no_postgres:
        name = f"dlclab_bench_{secrets.token_hex(4)}"
        admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            print("PostgreSQL:")
            engine = open_catalogue(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
            populate(engine, args.files, np.random.default_rng(1))
            backends["PostgreSQL"] = measure(engine, workloads(np.random.default_rng(2), args.queries))
            engine.dispose()
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()
    names = list(backends)
    header = f"{'workload':34s}" + "".join(f"{b + ' p50/p95 ms':>26s}" for b in names)
    if len(names) == 2:
        header += f"{'p95 ratio PG/SQLite':>22s}"
    print(header)
    for work in backends[names[0]]:
        line = f"{work:34s}"
        for b in names:
            p50, p95, hits = backends[b][work]
            line += f"{p50:12.1f} /{p95:7.1f} ({hits:5.0f})"
        if len(names) == 2:
            line += f"{backends[names[1]][work][1] / backends[names[0]][work][1]:22.2f}"
        print(line)
    worst = max(backends[b][w][1] for b in names for w in backends[b] if w.startswith("file"))
    print(f"worst file-level p95: {worst:.1f} ms (goal < 50 ms): {'met' if worst < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
