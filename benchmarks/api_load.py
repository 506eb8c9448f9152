"""Load on the HTTP API: plan requests against ``annoplan serve`` on loopback.

Usage::

    python benchmarks/api_load.py [--requests 1000] [--concurrency 20] [--workers 2] [--draws N]

Starts ``annoplan serve --workers W`` in a subprocess over a temporary SQLite file, waits for ``/readyz``,
sends a few warm-up plans (not counted), then ``--requests`` plan requests (``examples/plan.json``, each
with its own ``Idempotency-Key``) from ``--concurrency`` concurrent httpx clients, and prints throughput,
latency percentiles and errors. Afterwards it counts the stored plans in the database: every 201 must be
there. Goal: zero errors and p95 under 2 s.

What is measured is the architecture of ``annoplan serve --workers W``: one HTTP process (uvicorn: parsing,
validation, keys, storage, JSON) that hands every plan to a pool of W computation processes through one
queue, so each request waits for the next free process whichever keep-alive connection it came on. (With W
uvicorn processes sharing the listening socket instead, the 20 connections split unevenly between them,
12 to 8 or 16 to 4 in our runs, for the whole run, and the busier process set p95.)

A plan is CPU-bound (about 0.13 s of one core for the example), so with more requests in flight than
computation processes, latency is mostly queueing: by Little's law the mean latency is about
concurrency / throughput, whatever the server does; balancing brings p95 close to that mean. The machine's
load average is printed because anything else running on it slows the plans down.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plan.json"
KEY = "load-benchmark-key"
#: plans sent before measuring (one per computation process at least), and plans sent one at a time for the
#: service time
WARM_UP = 4
SERVICE_RUNS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_command(port: int, workers: int) -> list[str]:
    """``annoplan serve`` through this interpreter's console script."""
    annoplan = Path(sys.executable).with_name("annoplan")
    return [
        str(annoplan),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]


def wait_ready(base_url: str, server: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready")


async def run_load(
    base_url: str, body: bytes, n_requests: int, concurrency: int, offset: int
) -> tuple[list[float], Counter[str], float]:
    """Send ``n_requests`` plans from ``concurrency`` concurrent clients.

    Returns the latencies (s) of the 201s, the errors by kind, and the wall time (s).
    """
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n_requests):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=600.0) as client:

        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                headers = {
                    "X-API-Key": KEY,
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"load-{offset + i}",
                }
                start = time.perf_counter()
                try:
                    response = await client.post("/v1/plans", content=body, headers=headers)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                elapsed = time.perf_counter() - start
                if response.status_code == 201:
                    latencies.append(elapsed)
                else:
                    errors[f"HTTP {response.status_code}"] += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return latencies, errors, wall


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="annoplan serve --workers")
    parser.add_argument("--draws", type=int, default=None, help="override the example's draws")
    args = parser.parse_args()

    request: dict[str, Any] = json.loads(EXAMPLE.read_text())
    if args.draws is not None:
        request["draws"] = args.draws
    body = json.dumps(request).encode()

    print(f"command: python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"load: {args.requests} plans of {EXAMPLE.relative_to(ROOT)} ({len(body):,} bytes, "
        f"draws {request.get('draws', 'default')}), {args.concurrency} concurrent, "
        f"{args.workers} computation processes"
    )
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "load.db"
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = os.environ | {
            "ANNOPLAN_API_KEYS": KEY,
            "ANNOPLAN_DATABASE_URL": f"sqlite:///{database}",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        command = serve_command(port, args.workers)
        print(f"server: {' '.join(shlex.quote(Path(a).name if a == command[0] else a) for a in command)}")
        log = open(Path(tmp) / "server.log", "wb")
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(base_url, server)
            _, warm_errors, _ = asyncio.run(run_load(base_url, body, WARM_UP, args.workers, 10**9))
            alone, alone_errors, _ = asyncio.run(run_load(base_url, body, SERVICE_RUNS, 1, 2 * 10**9))
            if warm_errors or alone_errors:
                raise SystemExit(f"warm-up failed: {dict(warm_errors + alone_errors)}")
            load_before = os.getloadavg()[0]
            latencies, errors, wall = asyncio.run(
                run_load(base_url, body, args.requests, args.concurrency, 0)
            )
            load_after = os.getloadavg()[0]
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
        with sqlite3.connect(database) as connection:
            (stored,) = connection.execute(
                "SELECT COUNT(*) FROM annoplan_records WHERE kind = 'plan'"
            ).fetchone()
        if errors or not latencies:
            tail = (Path(tmp) / "server.log").read_text(errors="replace")[-2000:]
            print(f"server log (tail):\n{tail}")

    ok = len(latencies)
    print(f"service time, one request at a time: median {statistics.median(alone):.2f} s")
    print(f"1-minute load average of the machine: {load_before:.1f} before, {load_after:.1f} after the load")
    print(f"wall time: {wall:.1f} s")
    print(f"throughput: {ok / wall:.2f} plans/s")
    if latencies:
        print(
            "latency (s): "
            f"mean {statistics.fmean(latencies):.2f}, p50 {percentile(latencies, 50):.2f}, "
            f"p95 {percentile(latencies, 95):.2f}, p99 {percentile(latencies, 99):.2f}, "
            f"max {max(latencies):.2f}"
        )
        print(f"Little's law: concurrency / throughput = {args.concurrency / (ok / wall):.2f} s")
    print(f"errors: {sum(errors.values())} {dict(errors) if errors else ''}".rstrip())
    print(f"stored plans: {stored - WARM_UP - SERVICE_RUNS} of {ok} created")
    p95 = percentile(latencies, 95) if latencies else float("inf")
    verdict = "met" if not errors and p95 < 2.0 else "missed"
    print(f"goal (zero errors, p95 < 2 s): {verdict}")


if __name__ == "__main__":
    main()
