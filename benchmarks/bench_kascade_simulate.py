"""Benchmark: KASCADE simulation of N recorded events (event level, no arrays).

Goal (issue 2): 10 million events in under a minute on 2 cores. Prints wall and CPU
time against the goal, and the primary sampler against the shared ``PrimaryFlux.sample``
on the same number of primaries, side by side with the ratio.

    python benchmarks/bench_kascade_simulate.py [--events 10000000]
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=lambda s: int(float(s)), default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from dlclab.simulate.kascade import _SpeciesEnergySampler, simulate_kascade
    from dlclab.simulate.primaries import PrimaryFlux

    t0, c0 = time.perf_counter(), cpu_s()
    sim = simulate_kascade(args.events, seed=args.seed)
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    thrown = sim.exposure.thrown_events
    per_10m = wall * 1e7 / args.events
    print(f"simulate_kascade({args.events:,}): {wall:7.1f} s wall, {cpu:7.1f} s CPU "
          f"(all threads and processes), {thrown:,} primaries thrown")
    print(f"  10 million events: goal 60 s | ours {per_10m:6.1f} s (scaled) | "
          f"ratio goal/ours {60 / per_10m:5.2f}")

    n = 5_000_000
    flux = PrimaryFlux(1e14, 1e18)
    fast = _SpeciesEnergySampler(flux)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    flux.sample(n, rng)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast.sample(n, rng)
    t_fast = time.perf_counter() - t0
    print(f"sample {n:,} H3a primaries: PrimaryFlux.sample {t_ref:6.2f} s | "
          f"inverse-CDF table {t_fast:6.2f} s | ratio {t_ref / t_fast:5.1f}x")


if __name__ == "__main__":
    main()
