"""What the autograde sandbox costs (not a test): one notebook executed the way autograde
executes a submission, by nbgrader's own ``Execute`` (kernel as the grader) and by
:class:`dlclab.courses.sandbox.SandboxedExecute` (kernel in bubblewrap, on a copy of the
submission), side by side; prints the median of each, the ratio, and whether the goal
(the sandbox adds at most 1 s per notebook) is met.

    python benchmarks/bench_autograde_sandbox.py            # 7 runs each
    python benchmarks/bench_autograde_sandbox.py --runs 3
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import Execute

from dlclab.courses.sandbox import SandboxedExecute

GOAL_EXTRA_S = 1.0
#: an answer cell of the course's kind: numpy on a small spectrum
CELLS = ["import numpy as np",
         "edges = np.logspace(15, 18, 31)\ncounts = np.random.default_rng(1).poisson(100, 30)",
         "flux = counts / np.diff(edges)\nprint(flux[:3])"]


def execute_once(executor_class, folder: Path) -> float:
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    t0 = time.perf_counter()
    executor_class(timeout=120).preprocess(nb, {"metadata": {"path": str(folder)}})
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="executions per contender (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlclab-bench-sandbox-") as tmp:
        folder = Path(tmp)
        (folder / "answer.ipynb").write_text("{}")  # a submission folder has files to copy
        times = {"nbgrader Execute (grader's kernel)": [], "SandboxedExecute (bubblewrap)": []}
        for _ in range(args.runs):  # interleaved, so that load hits both alike
            for name, cls in zip(times, (Execute, SandboxedExecute)):
                times[name].append(execute_once(cls, folder))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:40s} median {median:6.2f} s over {args.runs} runs")
    plain, boxed = medians.values()
    extra = boxed - plain
    verdict = "met" if extra <= GOAL_EXTRA_S else "NOT met"
    print(f"ratio sandbox / plain: {boxed / plain:.2f}x; extra per notebook {extra:+.2f} s "
          f"(goal <= {GOAL_EXTRA_S:.1f} s): {verdict}")


if __name__ == "__main__":
    main()
