"""Speed and memory of ``make_plan`` on a plan request of a typical size.

Usage::

    python benchmarks/plan_speed.py [--repeats 10] [--request examples/plan.json]

The request (default: the bundled ``examples/plan.json``) has 4 pilot rounds with calibration samples, all 4
strategies, the default 5 batch sizes and 2,000 Monte Carlo draws. After one warm-up call (imports, caches),
``make_plan`` runs ``--repeats`` times in this process; the script prints the median, min and max wall time,
and the process's CPU time per run (when other processes load the machine, the wall time measures them too).
Memory: the peak of Python allocations during one more run (``tracemalloc``, which numpy reports to; that run
is not timed) and the process's maximum resident set size at the end (``resource.getrusage``), next to the
resident size after the imports, before any plan.

Goals (SPEC 5, issue 4): a plan in < 1 s (median) on a 2-core machine, < 500 MB of memory. BLAS threads are
pinned to 1.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from annoplan.planner import make_plan  # noqa: E402

DEFAULT_REQUEST = Path(__file__).resolve().parent.parent / "examples" / "plan.json"
GOAL_SECONDS = 1.0
GOAL_MB = 500.0


def max_rss_mb() -> float:
    """The process's maximum resident set size so far, in MB (Linux reports KiB, macOS bytes)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed runs after the warm-up (default 10)")
    parser.add_argument("--request", type=Path, default=DEFAULT_REQUEST, help="plan request JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    print(f"command: python {shlex.join(sys.argv)}")
    request = json.loads(args.request.read_text(encoding="utf-8"))
    rss_start = max_rss_mb()
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"

    with threadpool_limits(limits=1):
        plan = make_plan(request)  # warm-up
        seconds, cpu_seconds = [], []
        for _ in range(args.repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            make_plan(request)
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu_start)
        tracemalloc.start()
        make_plan(request)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_end = max_rss_mb()

    assumptions = plan.assumptions
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, BLAS pinned to 1"
    )
    print(
        f"request: pool {request['pool_size']:,}, {len(request['pilot']['rounds'])} pilot rounds, "
        f"{len(request['pilot'].get('calibration', []))} calibration samples, strategies "
        f"{','.join(s.strategy for s in plan.strategies)}, batch sizes {assumptions.get('batch_sizes')}, "
        f"{assumptions.get('draws')} draws"
    )
    median = statistics.median(seconds)
    print(
        f"make_plan wall time over {args.repeats} runs after a warm-up: median {median:.3f} s "
        f"(min {min(seconds):.3f}, max {max(seconds):.3f}); goal < {GOAL_SECONDS:.0f} s: "
        f"{'met' if median < GOAL_SECONDS else 'NOT met'}"
    )
    print(
        f"CPU time of this process per run (less sensitive to other load on the machine): median "
        f"{statistics.median(cpu_seconds):.3f} s (min {min(cpu_seconds):.3f}, max {max(cpu_seconds):.3f}); "
        f"load average before the runs {load_before}"
    )
    peak_mb = traced_peak / 2**20
    print(
        f"memory: tracemalloc peak of one run {peak_mb:.1f} MB; process max RSS {rss_end:.0f} MB "
        f"({rss_start:.0f} MB after imports); goal < {GOAL_MB:.0f} MB: "
        f"{'met' if max(peak_mb, rss_end) < GOAL_MB else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
