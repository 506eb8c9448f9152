"""Speed of a comparison: 5 vendors' offers on the bundled example scenario, 2,000 draws (SPEC 5: under 1 s).

Prints the wall time of ``compare_offers`` (best and median of ``--repeats``) beside one ``make_plan`` of the
same scenario, which the comparison's shared simulations should cost about as much as.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/comparison_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from annoplan.planner.comparisons import compare_offers
from annoplan.planner.plans import make_plan

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plan.json"


def five_vendors(plan: dict[str, Any]) -> dict[str, Any]:
    """Three rate cards, a quote with its promised settings and a quote whose settings are searched."""
    costs = plan["costs"]
    return {
        **{k: plan[k] for k in ("pool_size", "goal", "pilot")},
        "draws": 2000,
        "seed": 0,
        "offers": [
            {"vendor": "A", "costs": costs},
            {"vendor": "B", "costs": {**costs, "correction": 0.30, "review": 0.14}},
            {"vendor": "C", "costs": {**costs, "label": 0.35, "round_overhead": 60.0}},
            {"vendor": "D", "price_per_correction": 0.9, "price_per_audit": 0.12, "price_cap": 2500.0},
            {
                "vendor": "E",
                "price_per_correction": 0.8,
                "price_per_audit": 0.1,
                "confidence_threshold": 0.6,
                "batch_size": 1000,
            },
        ],
    }


def timed(call: Any, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    plan = json.loads(EXAMPLE.read_text())
    request = five_vendors(plan)
    compare_offers(request)  # warm up (imports, the learned curve model)
    comparison = timed(lambda: compare_offers(request), args.repeats)
    single = timed(lambda: make_plan({**plan, "draws": 2000, "seed": 0}), args.repeats)
    print(
        f"comparison, 5 vendors, 2,000 draws: best {min(comparison):.3f} s, "
        f"median {statistics.median(comparison):.3f} s"
    )
    print(
        f"one plan of the same scenario:      best {min(single):.3f} s, "
        f"median {statistics.median(single):.3f} s"
    )
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
