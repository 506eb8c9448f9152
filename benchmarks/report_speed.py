"""Speed of the plan workbook: building the sheet model and rendering it to ``.xlsx`` bytes.

Usage::

    python benchmarks/report_speed.py [--repeats 20] [--request examples/plan.json]

Plans the request once (not timed: default draws and batch sizes, as ``annoplan plan`` does), then times
``reports.plan_workbook`` (sheet model + openpyxl rendering) ``--repeats`` times and prints the median and
the range, with the model-building share apart. Target: a typical plan's workbook in under 1 second on a
2-core machine. BLAS threads are pinned to 1.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import openpyxl  # noqa: E402

from annoplan.planner import make_plan  # noqa: E402
from annoplan.reports import build_plan_workbook, plan_workbook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def timed(work: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of ``repeats`` runs of ``work``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description="Speed of the plan workbook.")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--request", type=Path, default=ROOT / "examples" / "plan.json")
    args = parser.parse_args()
    request = json.loads(args.request.read_text())
    plan = make_plan(request)
    data = plan_workbook(plan, request)
    book = openpyxl.load_workbook(io.BytesIO(data))
    n_cells = sum(1 for ws in book for row in ws.iter_rows() for c in row if c.value is not None)
    n_charts = sum(len(ws._charts) for ws in book)

    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"python {platform.python_version()}, openpyxl {openpyxl.__version__}, {os.cpu_count()} cores")
    print(
        f"request: {args.request.name}: {len(plan.strategies)} strategies, {len(book.sheetnames)} sheets, "
        f"{n_cells} cells, {n_charts} charts, {len(data) / 1024:.0f} KiB"
    )
    total = timed(lambda: plan_workbook(plan, request), args.repeats)
    model = timed(lambda: build_plan_workbook(plan, request), args.repeats)
    print(
        f"plan_workbook: median {statistics.median(total) * 1000:.0f} ms (min {min(total) * 1000:.0f}, "
        f"max {max(total) * 1000:.0f}) over {args.repeats} builds; target: under 1000 ms"
    )
    print(f"  of which the sheet model: median {statistics.median(model) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
