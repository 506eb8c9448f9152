"""Start-up time of the command line: ``annoplan --help`` and ``annoplan fit --help`` in fresh processes.

Usage::

    python benchmarks/cli_startup.py [--repeats 10]

Each command runs ``--repeats`` times in a new Python process (as a user's shell starts it); the script prints
the median, min and max wall time, and which heavy libraries (scipy, scikit-learn, numpy, openpyxl, fastapi)
the process had imported once the help was printed. Goal (issue 25): well under a second, no scipy at
start-up. BLAS threads are pinned to 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "sklearn", "numpy", "openpyxl", "fastapi", "matplotlib")
#: runs the command line's entry point with ``argv``, then lists the heavy modules it imported
PROGRAM = (
    "import sys\n"
    "argv = sys.argv[1:]\n"
    "sys.argv = ['annoplan', *argv]\n"
    "from annoplan.api.cli import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
    "print('HEAVY:' + ','.join(heavy), file=sys.stderr)\n"
)
COMMANDS = (("--help",), ("fit", "--help"), ("plan", "--help"))


def run_once(argv: tuple[str, ...]) -> tuple[float, str]:
    """Wall seconds of one fresh process running the command line with ``argv``, and its heavy imports."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    heavy = next(line for line in done.stderr.splitlines() if line.startswith("HEAVY:"))
    return elapsed, heavy.removeprefix("HEAVY:") or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(f"command: python benchmarks/cli_startup.py --repeats {args.repeats}")
    for argv in COMMANDS:
        run_once(argv)  # warm the file cache
        runs = [run_once(argv) for _ in range(args.repeats)]
        times = [t for t, _ in runs]
        print(
            f"annoplan {' '.join(argv):<12} median {statistics.median(times):.3f} s  min {min(times):.3f} s  "
            f"max {max(times):.3f} s  heavy imports: {runs[-1][1]}"
        )


if __name__ == "__main__":
    main()
