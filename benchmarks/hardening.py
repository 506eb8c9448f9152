"""Standing hardening checks of the HTTP API and the CLI, re-run on demand.

Usage::

    python benchmarks/hardening.py {schemathesis,hostile,crash,soak,all} [--quick] [--workers 2] [--seed S]

Every check that needs a server starts its own ``annoplan serve --workers W`` on a free 127.0.0.1 port over
a temporary SQLite file (``ANNOPLAN_API_KEYS``, ``ANNOPLAN_DATABASE_URL``), waits for ``/readyz`` and stops
it (and whatever processes it left) when done. Each check prints its figures and a verdict; the script
exits 1 when any check fails.

- ``schemathesis``: ``st run`` against the served OpenAPI document with every phase (examples, coverage,
  fuzzing, stateful) and every check, at 300 examples per operation (``--quick``: 20).
- ``hostile``: a corpus of hostile inputs for every endpoint and CLI command (:func:`http_cases`,
  :func:`cli_cases`). Each must answer a 4xx (or exit 2) naming the field, within 10 s and 1 GiB: for the
  API, the answer's time and the peak RSS of any server process during it; for the CLI, a subprocess capped
  at 1 GiB of address space (``RLIMIT_AS``; a plain run needs about 170 MB) and killed after 10 s, its peak
  RSS from ``wait4``. ``--quick`` runs the API cases and a subset of the CLI ones.
- ``crash``: 10 clients post 200 small plans, each with its own ``Idempotency-Key``, retrying on connection
  errors and 5xx; meanwhile one computation process is killed with SIGKILL, and later the server itself,
  which is restarted on the same database. Every plan acknowledged with a 201 must then read back
  unchanged, no key may be stored twice, and ``PRAGMA integrity_check`` must say ok (``--quick``: 40).
- ``soak``: 2,000 mixed requests (health, fit, plan, read, report.xlsx, 404, 401) from 50 concurrent
  clients after a warm-up: no unexpected status, and the server's RSS at the end within 1.5x of what it was
  after the warm-up (``--quick``: 300).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import random
import resource
import shlex
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KEY = "hardening-key"
#: every hostile case must be answered within this many seconds ...
TIME_BOUND = 10.0
#: ... and within this much memory (bytes): peak RSS of a server process, address space of a CLI run
MEMORY_BOUND = 2**30
#: the server's default request-body cap (ANNOPLAN_MAX_BODY_BYTES)
MAX_BODY_BYTES = 2 * 1024 * 1024
#: the CLI's largest request file (api.cli.MAX_REQUEST_BYTES)
MAX_CLI_REQUEST_BYTES = 50 * 1024 * 1024
PROBLEM_MEDIA_TYPE = "application/problem+json"
THREADS_ONE = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: what the schemathesis run accepts for data that is valid by the OpenAPI document: the document cannot
#: say everything a request must satisfy (sorted rounds, one flag per confidence, the simulation cap)
POSITIVE_STATUSES = ["2xx", "401", "404", "422"]


# --------------------------------------------------------------------------------------------------
# requests


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def small_plan(seed: int = 0) -> dict[str, Any]:
    """The bundled example plan made small and fast (200 draws, one batch size): a few hundredths of a
    second of computation."""
    request = example("plan.json")
    request.update(draws=200, batch_sizes=[5000], seed=seed)
    return request


def small_quote() -> dict[str, Any]:
    request = example("quote.json")
    request.update(draws=200, batch_sizes=[5000])
    return request


def huge_plan() -> dict[str, Any]:
    """A valid plan far over the default simulation cap: a pool of ten million items in batches of one."""
    request = example("plan.json")
    request.update(pool_size=10_000_000, batch_sizes=[1], draws=20_000)
    return request


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


def raw(request: dict[str, Any], key: str, text: str) -> bytes:
    """``request`` as JSON with top-level ``key`` set to the JSON text ``text`` (NaN, huge numbers)."""
    rest = {k: v for k, v in request.items() if k != key}
    return (json.dumps(rest)[:-1] + f', "{key}": {text}}}').encode()


HUGE = "9" * 5000
DEEP = "[" * 100_000 + "]" * 100_000


# --------------------------------------------------------------------------------------------------
# the hostile corpus


@dataclass(frozen=True)
class HttpCase:
    """One hostile request: the statuses that may answer it and the field the answer must name (in the
    problem's ``detail`` or among the fields of its ``errors``)."""

    endpoint: str
    name: str
    expected: tuple[int, ...]
    field: str
    path: str
    body: bytes | None = None
    headers: dict[str, str | bytes] = dataclasses.field(default_factory=dict)
    #: send the body without Content-Length, in chunks
    chunked: bool = False

    @property
    def method(self) -> str:
        return self.endpoint.split()[0]

    def request_headers(self) -> list[tuple[bytes, bytes]]:
        """The default headers, then the case's own, as bytes (str in ASCII, as httpx encodes them: a case's
        bytes values are not text)."""
        headers: dict[str, str | bytes] = {"X-API-Key": KEY}
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        return [
            (name.encode("ascii"), value if isinstance(value, bytes) else value.encode("ascii"))
            for name, value in (headers | self.headers).items()
        ]

    def content(self) -> bytes | Iterator[bytes] | None:
        if self.body is None or not self.chunked:
            return self.body
        body = self.body
        return (body[i : i + 65536] for i in range(0, len(body), 65536))


def post(
    path: str, name: str, expected: tuple[int, ...], field: str, body: bytes, **options: Any
) -> HttpCase:
    return HttpCase(f"POST {path}", name, expected, field, path, body, **options)


@dataclass(frozen=True)
class CliCase:
    """One hostile command line: ``args`` writes its input files into a scratch directory and returns the
    arguments after ``annoplan``; the command must exit with one of ``expected``, naming ``field`` on standard
    error when it refuses (exit 2)."""

    command: str
    name: str
    field: str
    args: Callable[[Path], list[str]]
    expected: tuple[int, ...] = (2,)
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    stdin: bytes | None = None
    #: part of ``--quick``
    quick: bool = False


def http_cases() -> list[HttpCase]:
    """The hostile corpus of the HTTP API, for every endpoint."""
    plan, quote, fit = small_plan(), small_quote(), example("pilot_fit.json")
    tight_goal = {"goal": {"type": "labeled_dataset", "max_label_error": 1e-20}}
    junk_utf8 = b'{"name": "\xff\xfe\xc3\x28", "pool_size": 50000}'
    over_limit = b'{"notes": "' + b"x" * MAX_BODY_BYTES + b'"}'
    key_junk = bytes(range(128, 256)) * 62
    unknown = "0" * 32
    cases = [
        post("/v1/plans", "delta 1e-17", (422,), "delta", dumps(plan | {"delta": 1e-17})),
        post("/v1/plans", "max_label_error 1e-20", (422,), "goal.max_label_error", dumps(plan | tight_goal)),
        post("/v1/quotes", "delta 1e-17", (422,), "delta", dumps(quote | {"delta": 1e-17})),
        post(
            "/v1/quotes",
            "max_label_error 1e-20",
            (422,),
            "max_label_error",
            dumps(quote | {"max_label_error": 1e-20}),
        ),
        post("/v1/plans", "pool_size of 5,000 digits", (400, 422), "pool_size", raw(plan, "pool_size", HUGE)),
        post(
            "/v1/quotes", "pool_size of 5,000 digits", (400, 422), "pool_size", raw(quote, "pool_size", HUGE)
        ),
        post(
            "/v1/curves/fit",
            "at_labels of 5,000 digits",
            (400, 422),
            "at_labels",
            raw(fit, "at_labels", f"[{HUGE}]"),
        ),
        post("/v1/plans", "delta NaN", (422,), "delta", raw(plan, "delta", "NaN")),
        post("/v1/quotes", "margin -Infinity", (422,), "margin", raw(quote, "margin", "-Infinity")),
        post("/v1/curves/fit", "targets [NaN]", (422,), "targets", raw(fit, "targets", "[NaN]")),
        post(
            "/v1/curves/fit",
            "rounds[0].value Infinity",
            (422,),
            "rounds[0].value",
            dumps(fit).replace(b'"value": 0.742', b'"value": Infinity', 1),
        ),
        post("/v1/plans", "pilot nested 100,000 deep", (400, 422), "body", raw(plan, "pilot", DEEP)),
        post("/v1/plans", "over the simulation cap", (422,), "draws", dumps(huge_plan())),
        post(
            "/v1/curves/fit", "100,000 targets", (422,), "targets", dumps(fit | {"targets": [0.9] * 100_000})
        ),
        post("/v1/plans", "chunked body over the size limit", (413,), "body", over_limit, chunked=True),
        post(
            "/v1/plans",
            "Idempotency-Key of 300 characters",
            (422,),
            "Idempotency-Key",
            dumps(plan),
            headers={"Idempotency-Key": "k" * 300},
        ),
        post(
            "/v1/plans",
            "Idempotency-Key not ASCII",
            (422,),
            "Idempotency-Key",
            dumps(plan),
            headers={"Idempotency-Key": b"\xff\xfe-key"},
        ),
        post(
            "/v1/plans",
            "X-API-Key of 7,936 junk bytes",
            (401,),
            "X-API-Key",
            dumps(plan),
            headers={"X-API-Key": key_junk},
        ),
        HttpCase("GET /v1/plans/{id}", "id of 10,000 characters", (404,), "id", "/v1/plans/" + "a" * 10_000),
        HttpCase("GET /v1/plans/{id}", "id of invalid UTF-8 and NUL", (404,), "id", "/v1/plans/%ff%fe%00"),
        HttpCase(
            "GET /v1/plans/{id}/report.xlsx", "unknown id", (404,), "id", f"/v1/plans/{unknown}/report.xlsx"
        ),
        HttpCase("GET /v1/quotes/{id}", "id of invalid UTF-8", (404,), "id", "/v1/quotes/%c3%28"),
        HttpCase(
            "GET /v1/quotes/{id}/report.xlsx",
            "copy of 5,000 characters",
            (422,),
            "copy",
            f"/v1/quotes/{unknown}/report.xlsx?copy={'c' * 5000}",
        ),
    ]
    for path, request in (("/v1/plans", plan), ("/v1/quotes", quote), ("/v1/curves/fit", fit)):
        cases += [
            post(path, "invalid UTF-8 body", (400,), "body", junk_utf8),
            post(path, "body nested 100,000 deep", (400, 422), "body", DEEP.encode()),
            post(path, "body over the size limit", (413,), "body", over_limit),
            post(path, "empty body", (400, 422), "body", b""),
            post(
                path,
                "Content-Type text/plain",
                (415,),
                "Content-Type",
                dumps(request),
                headers={"Content-Type": "text/plain"},
            ),
        ]
    return cases


def write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def on(command: str, make: Callable[[Path], Path], *options: str) -> Callable[[Path], list[str]]:
    """Arguments of ``annoplan command FILE options...``, FILE made in the scratch directory by ``make``."""
    return lambda scratch: [command, str(make(scratch)), *options]


def json_file(name: str, data: Any) -> Callable[[Path], Path]:
    return lambda scratch: write(scratch / name, dumps(data))


def raw_file(name: str, content: bytes) -> Callable[[Path], Path]:
    return lambda scratch: write(scratch / name, content)


def directory(name: str) -> Callable[[Path], Path]:
    def make(scratch: Path) -> Path:
        (scratch / name).mkdir(exist_ok=True)
        return scratch / name

    return make


def existing(path: Path) -> Callable[[Path], Path]:
    return lambda _scratch: path


def rounds_workbook(cell: str, value: Any) -> Callable[[Path], Path]:
    """Pilot rounds in an .xlsx whose first sheet also holds ``value`` at ``cell`` (XFD1048576: the last
    cell of a sheet, which makes the sheet declare 17 billion cells)."""

    def make(scratch: Path) -> Path:
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        for row in (["n_labels", "value"], [250, 0.742], [500, 0.781], [1000, 0.812], [2000, 0.836]):
            sheet.append(row)
        sheet[cell] = value
        path = scratch / f"rounds-{cell}.xlsx"
        workbook.save(path)
        return path

    return make


def junk_csv(column: str) -> Callable[[Path], Path]:
    """A CSV of 100,000 rows whose ``column`` (a feature, or the label) holds 100,000 unique junk strings."""

    def make(scratch: Path) -> Path:
        rng = random.Random(21)
        lines = ["junk,label"]
        for i in range(100_000):
            junk = f"{rng.getrandbits(64):016x}-{i}"
            lines.append(f"{junk},{junk}" if column == "label" else f"{junk},{'ab'[i % 2]}")
        return write(scratch / f"junk-{column}.csv", "\n".join(lines) + "\n")

    return make


def cli_cases() -> list[CliCase]:
    """The hostile corpus of the command line, for every command."""
    plan, quote, fit = small_plan(), small_quote(), example("pilot_fit.json")
    tight_goal = {"goal": {"type": "labeled_dataset", "max_label_error": 1e-20}}
    rounds_csv = existing(EXAMPLES / "pilot_rounds.csv")
    nowhere = "/nonexistent/dir/x.xlsx"
    return [
        CliCase(
            "annoplan plan",
            "delta 1e-17",
            "delta",
            on("plan", json_file("p.json", plan | {"delta": 1e-17})),
            quick=True,
        ),
        CliCase(
            "annoplan plan",
            "max_label_error 1e-20",
            "max_label_error",
            on("plan", json_file("p.json", plan | tight_goal)),
        ),
        CliCase(
            "annoplan quote",
            "delta 1e-17",
            "delta",
            on("quote", json_file("q.json", quote | {"delta": 1e-17})),
        ),
        CliCase(
            "annoplan quote",
            "max_label_error 1e-20",
            "max_label_error",
            on("quote", json_file("q.json", quote | {"max_label_error": 1e-20})),
            quick=True,
        ),
        CliCase(
            "annoplan plan",
            "pool_size of 5,000 digits",
            "pool_size",
            on("plan", raw_file("p.json", raw(plan, "pool_size", HUGE))),
            quick=True,
        ),
        CliCase(
            "annoplan fit",
            "at_labels of 5,000 digits",
            "at_labels",
            on("fit", raw_file("f.json", raw(fit, "at_labels", f"[{HUGE}]"))),
        ),
        CliCase(
            "annoplan plan",
            "request nested 100,000 deep",
            "FILE",
            on("plan", raw_file("p.json", DEEP.encode())),
            quick=True,
        ),
        CliCase(
            "annoplan quote",
            "pilot nested 100,000 deep",
            "FILE",
            on("quote", raw_file("q.json", raw(quote, "pilot", DEEP))),
        ),
        CliCase(
            "annoplan plan",
            "invalid UTF-8 file",
            "FILE",
            on("plan", raw_file("p.json", b'{"name": "\xff\xfe"}')),
            quick=True,
        ),
        CliCase(
            "annoplan fit",
            "invalid UTF-8 on standard input",
            "FILE",
            lambda _: ["fit", "-"],
            stdin=b'{"metric": "\xff"}',
        ),
        CliCase(
            "annoplan fit",
            "invalid UTF-8 CSV",
            "FILE",
            on("fit", raw_file("r.csv", b"n_labels,value\n250,0.7\xff\n")),
        ),
        CliCase(
            "annoplan fit",
            "rounds[0].value NaN",
            "rounds[0].value",
            on("fit", raw_file("f.json", dumps(fit).replace(b"0.742", b"NaN", 1))),
            quick=True,
        ),
        CliCase(
            "annoplan fit",
            "--target nan",
            "target",
            on("fit", existing(EXAMPLES / "pilot_fit.json"), "--target", "nan"),
        ),
        CliCase(
            "annoplan plan",
            "file over 50 MB",
            "FILE",
            on("plan", raw_file("big.json", b" " * (MAX_CLI_REQUEST_BYTES + 1) + dumps(plan))),
        ),
        # a stray cell far from the table may be read (only the cells there) or refused
        CliCase(
            "annoplan fit",
            "xlsx with a stray cell at XFD1048576",
            "FILE",
            on("fit", rounds_workbook("XFD1048576", "stray")),
            expected=(0, 2),
            quick=True,
        ),
        CliCase(
            "annoplan fit",
            "xlsx with a number at A1048576",
            "rounds[4]",
            on("fit", rounds_workbook("A1048576", 4000)),
        ),
        CliCase(
            "annoplan fit",
            "text file named .xlsx",
            "FILE",
            on("fit", raw_file("r.xlsx", b"n_labels,value\n250,0.7\n")),
        ),
        CliCase("annoplan plan", "directory as FILE", "FILE", on("plan", directory("p.json")), quick=True),
        CliCase("annoplan fit", "directory named .csv as FILE", "FILE", on("fit", directory("r.csv"))),
        CliCase("annoplan fit", "directory named .xlsx as FILE", "FILE", on("fit", directory("r.xlsx"))),
        CliCase(
            "annoplan plan",
            f"--xlsx {nowhere}",
            "--xlsx",
            on("plan", json_file("p.json", plan), "--xlsx", nowhere),
            quick=True,
        ),
        CliCase(
            "annoplan quote",
            f"--xlsx {nowhere}",
            "--xlsx",
            on("quote", json_file("q.json", quote), "--xlsx", nowhere),
        ),
        CliCase("annoplan demo", f"--xlsx {nowhere}", "--xlsx", lambda _: ["demo", "--xlsx", nowhere]),
        CliCase(
            "annoplan plan",
            "over the work cap",
            "draws",
            on("plan", json_file("p.json", huge_plan())),
            quick=True,
        ),
        CliCase(
            "annoplan replay",
            "CSV of 100,000 unique junk strings (a feature)",
            "DATA",
            on("replay", junk_csv("feature"), "--policy", "random"),
            quick=True,
        ),
        CliCase(
            "annoplan replay",
            "CSV of 100,000 unique junk strings (the label)",
            "DATA",
            on("replay", junk_csv("label"), "--policy", "random"),
        ),
        CliCase(
            "annoplan replay",
            "text file named .npz",
            "DATA",
            on("replay", raw_file("d.npz", b"label,x\na,1\nb,2\n"), "--policy", "random"),
            quick=True,
        ),
        CliCase(
            "annoplan replay",
            "directory as DATA",
            "DATA",
            on("replay", directory("d.csv"), "--policy", "random"),
        ),
        CliCase(
            "annoplan replay",
            "--max-labels of 5,000 digits",
            "--max-labels",
            on("replay", rounds_csv, "--policy", "random", "--max-labels", HUGE),
        ),
        CliCase(
            "annoplan replay",
            "--costs with NaN",
            "--costs",
            lambda s: [
                "replay",
                str(rounds_csv(s)),
                "--policy",
                "random",
                "--costs",
                str(write(s / "c.json", b'{"label": NaN}')),
            ],
        ),
        CliCase(
            "annoplan serve",
            "ANNOPLAN_MAX_BODY_BYTES of 5,000 digits",
            "ANNOPLAN_MAX_BODY_BYTES",
            lambda _: ["serve", "--port", str(free_port())],
            env={"ANNOPLAN_MAX_BODY_BYTES": HUGE},
            quick=True,
        ),
        CliCase("annoplan serve", "--port 70000", "--port", lambda _: ["serve", "--port", "70000"]),
    ]


@dataclass
class Outcome:
    """What one hostile case got."""

    target: str
    name: str
    expected: str
    got: str
    seconds: float
    peak_bytes: int | None
    message: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def problem_message(content: bytes) -> str:
    """The words of a problem answer: its detail and the fields its errors name."""
    try:
        problem = json.loads(content)
    except ValueError:
        return content[:300].decode(errors="replace")
    if not isinstance(problem, dict):
        return content[:300].decode(errors="replace")
    fields = [str(e.get("field", "")) for e in problem.get("errors") or [] if isinstance(e, dict)]
    return str(problem.get("detail", "")) + (f" [errors: {', '.join(fields)}]" if fields else "")


def judge_http(case: HttpCase, status: int, content_type: str, content: bytes, seconds: float) -> Outcome:
    """How the answer to ``case`` measures up: status, problem+json, the field named, the time."""
    message = problem_message(content)
    problems = []
    if status not in case.expected:
        problems.append(f"status {status}, expected {'/'.join(map(str, case.expected))}")
    if 400 <= status < 500 and content_type.split(";")[0].strip() != PROBLEM_MEDIA_TYPE:
        problems.append(f"content type {content_type!r}, not {PROBLEM_MEDIA_TYPE}")
    if case.field not in message:
        problems.append(f"the answer does not name {case.field}")
    if seconds > TIME_BOUND:
        problems.append(f"took {seconds:.1f} s (bound {TIME_BOUND:g} s)")
    return Outcome(
        case.endpoint,
        case.name,
        "/".join(map(str, case.expected)),
        str(status),
        seconds,
        None,
        message,
        problems,
    )


def annoplan_executable() -> str:
    return str(Path(sys.executable).with_name("annoplan"))


def run_cli_case(case: CliCase, scratch: Path) -> Outcome:
    """Run ``case`` in a subprocess capped at :data:`MEMORY_BOUND` of address space, killed (with its
    process group) after :data:`TIME_BOUND` seconds."""
    case_dir = Path(tempfile.mkdtemp(prefix="case-", dir=scratch))
    args = case.args(case_dir)
    env = os.environ | THREADS_ONE | {"ANNOPLAN_DATABASE_URL": f"sqlite:///{case_dir / 'cli.db'}"} | case.env

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BOUND, MEMORY_BOUND))

    stdin_path = write(case_dir / "stdin", case.stdin or b"")
    with (
        open(stdin_path, "rb") as stdin,
        open(case_dir / "stdout", "wb") as stdout,
        open(case_dir / "stderr", "wb") as stderr,
    ):
        start = time.monotonic()
        process = subprocess.Popen(
            [annoplan_executable(), *args],
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=case_dir,
            env=env,
            preexec_fn=limit_memory,
            start_new_session=True,
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > TIME_BOUND:
                timed_out = True
                os.killpg(process.pid, signal.SIGKILL)
                _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        try:  # whatever the command started in its session (a server that did start, its workers)
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    err = (case_dir / "stderr").read_bytes().decode(errors="replace")
    code = process.returncode
    problems = []
    if timed_out:
        problems.append(f"no exit within {TIME_BOUND:g} s (killed)")
    elif code not in case.expected:
        problems.append(f"exit {code}, expected {'/'.join(map(str, case.expected))}")
    if "MemoryError" in err:
        problems.append(f"out of memory (address space capped at {MEMORY_BOUND // 2**20} MiB)")
    if "Traceback" in err:
        problems.append("a traceback on standard error")
    if not timed_out and code != 0 and case.field not in err:
        problems.append(f"standard error does not name {case.field}")
    lines = [line for line in err.strip().splitlines() if line.strip()]
    message = lines[-1] if lines else ""
    return Outcome(
        case.command,
        case.name,
        "/".join(map(str, case.expected)),
        "killed" if timed_out else str(code),
        seconds,
        usage.ru_maxrss * 1024,
        message,
        problems,
    )


# --------------------------------------------------------------------------------------------------
# processes (Linux /proc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_table() -> dict[int, tuple[int, int]]:
    """Every process: pid -> (parent pid, start time in clock ticks)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[19]))
    return table


def descendants(pid: int) -> list[tuple[int, int]]:
    """The processes below ``pid``, each as (pid, start time) so that a reused pid is never mistaken."""
    table = process_table()
    found: list[tuple[int, int]] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, started) in table.items():
            if ppid == parent:
                found.append((child, started))
                frontier.append(child)
    return found


def is_alive(ref: tuple[int, int]) -> bool:
    pid, started = ref
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19]) == started and fields[0] != "Z"


def kill_ref(ref: tuple[int, int]) -> None:
    if is_alive(ref):
        try:
            os.kill(ref[0], signal.SIGKILL)
        except ProcessLookupError:
            pass


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def mib(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:,.0f} MiB"


class Server:
    """``annoplan serve --workers W`` on a free loopback port over an SQLite file in ``workdir``;
    restartable on the same port and database."""

    def __init__(self, workdir: Path, workers: int, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.workers = workers
        self.database = workdir / "annoplan.db"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = (
            os.environ
            | THREADS_ONE
            | {"ANNOPLAN_API_KEYS": KEY, "ANNOPLAN_DATABASE_URL": f"sqlite:///{self.database}"}
            | (env or {})
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        #: processes the server started (computation processes, a resource tracker), recorded while it runs
        self.children: set[tuple[int, int]] = set()
        self.left_behind = 0

    @property
    def command(self) -> list[str]:
        return [
            annoplan_executable(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]

    @property
    def log(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 180.0) -> float:
        """Start the server and wait for ``/readyz``; the seconds that took."""
        self.starts += 1
        start = time.monotonic()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2.0).status_code == 200:
                    self.remember_children()
                    return time.monotonic() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server was not ready within {timeout:g} s:\n{self.log_tail()}")

    def remember_children(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.children.update(descendants(self.pid))

    def computation_processes(self) -> list[int]:
        """The server's computation processes (spawned interpreters; not its resource tracker)."""
        self.remember_children()
        return [
            pid
            for pid, _ in descendants(self.pid)
            if "spawn_main" in command_line(pid) and "resource_tracker" not in command_line(pid)
        ]

    def memory(self) -> tuple[int, int, dict[int, int]]:
        """RSS of the HTTP process, of it and all its descendants, and of each (bytes)."""
        each = {pid: rss_bytes(pid) or 0 for pid in [self.pid] + [p for p, _ in descendants(self.pid)]}
        return each.get(self.pid, 0), sum(each.values()), each

    def kill9(self) -> None:
        """SIGKILL the server process itself (not its computation processes: they must notice)."""
        self.remember_children()
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def reap_children(self, grace: float) -> tuple[int, float]:
        """Wait up to ``grace`` s for the recorded children of stopped servers to exit; kill the rest.
        Returns how many had to be killed and how long the others took to go."""
        start = time.monotonic()
        while time.monotonic() - start < grace and any(is_alive(ref) for ref in self.children):
            time.sleep(0.1)
        gone_after = time.monotonic() - start
        remaining = [ref for ref in self.children if is_alive(ref)]
        for ref in remaining:
            kill_ref(ref)
        self.left_behind += len(remaining)
        self.children.clear()
        return len(remaining), gone_after

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s; then the processes it left behind, if any."""
        if self.process is not None and self.process.poll() is None:
            self.remember_children()
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reap_children(grace=15.0)

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MemorySampler:
    """Samples the server's RSS every ``interval`` seconds on a thread: peaks per process and in all."""

    def __init__(self, server: Server, interval: float = 0.02) -> None:
        self.server = server
        self.interval = interval
        self.peak_process = 0
        self.peak_total = 0
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                http, total, each = self.server.memory()
            except Exception:  # the server is being killed or restarted
                http, total, each = 0, 0, {}
            self.peak_process = max([self.peak_process, *each.values()])
            self.peak_total = max(self.peak_total, total)
            self.samples.append((time.monotonic(), http, total))
            self._stop.wait(self.interval)

    def reset(self) -> None:
        self.peak_process = self.peak_total = 0

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------------------------------
# the checks


@dataclass
class CheckResult:
    name: str
    passed: bool
    figures: list[str]


def report(name: str, passed: bool, figures: list[str]) -> CheckResult:
    print(f"{name}: {'PASS' if passed else 'FAIL'}")
    print()
    return CheckResult(name, passed, figures)


def cases_per_operation(events: Path) -> Counter[str]:
    """Test cases sent per operation, from the events of ``st run --report ndjson``."""
    counts: Counter[str] = Counter()
    if not events.exists():
        return counts
    with open(events) as lines:
        for line in lines:
            if '"ScenarioFinished"' not in line[:40]:
                continue
            recorder = json.loads(line)["ScenarioFinished"]["recorder"]
            for case in recorder.get("cases", {}).values():
                value = case.get("value", {})
                counts[f"{value.get('method', '?')} {value.get('path', '?')}"] += 1
    return counts


def check_schemathesis(args: argparse.Namespace) -> CheckResult:
    """``st run`` with every phase and check against a served API."""
    examples = 20 if args.quick else 300
    print(f"== schemathesis: every phase and check, {examples} examples per operation")
    st = Path(sys.executable).with_name("st")
    with tempfile.TemporaryDirectory(prefix="hardening-st-") as tmp:
        workdir = Path(tmp)
        config = workdir / "schemathesis.toml"
        config.write_text(
            f"seed = {args.seed}\n"
            "[generation]\n"
            'mode = "all"\n'
            "[checks.positive_data_acceptance]\n"
            f"expected-statuses = {json.dumps(POSITIVE_STATUSES)}\n"
            "[auth.openapi.ApiKey]\n"
            f'api_key = "{KEY}"\n'
            # a plan's actuals exist once they are reported (POST): before that GET answers 404 by design
            "[[operations]]\n"
            'include-path = "/v1/plans/{plan_id}/actuals"\n'
            'include-method = "GET"\n'
            "checks.ensure_resource_availability.enabled = false\n"
        )
        report_path = workdir / "report.json"
        events_path = workdir / "events.ndjson"
        with Server(workdir, args.workers) as server:
            command = [
                str(st),
                "--config-file",
                str(config),
                "run",
                f"{server.base_url}/openapi.json",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                # every check runs (the default); no --checks here: on the command line it would override the
                # per-operation settings of the config file
                "--max-examples",
                str(examples),
                # one worker: hypothesis describing strategies on several threads trips a CPython 3.11
                # parser race ("AST constructor recursion depth mismatch")
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--report",
                "json,ndjson",
                "--report-json-path",
                str(report_path),
                "--report-ndjson-path",
                str(events_path),
                "--no-color",
            ]
            print(f"command: st {' '.join(shlex.quote(a) for a in command[1:])}")
            print(f"config: {' '.join(config.read_text().split())}")
            start = time.monotonic()
            try:
                run = subprocess.run(
                    command,
                    cwd=workdir,
                    capture_output=True,
                    text=True,
                    timeout=600 if args.quick else 3600,
                    env=os.environ | {"NO_COLOR": "1"},
                )
                output, code = run.stdout + run.stderr, run.returncode
            except subprocess.TimeoutExpired as exc:
                output, code = f"st run timed out after {exc.timeout:g} s", -1
            seconds = time.monotonic() - start
            http_rss, total_rss, _ = server.memory()
            document = httpx.get(f"{server.base_url}/openapi.json", timeout=30).json()
        operations = [
            f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
        ]
        if not report_path.exists():
            print(output[-4000:])
            return report("schemathesis", False, ["no report written"])
        data = json.loads(report_path.read_text())
        sent = cases_per_operation(events_path)
    cases = data["test_cases"]
    phases = {name: phase["status"] for name, phase in data["phases"].items()}
    failures = [
        f"{f.get('title')} x{f.get('count')} ({', '.join(f.get('operations') or [])})"
        for f in data.get("failures", [])
    ]
    errors = [
        f"{e.get('title', e)} x{e.get('count', 1)}" if isinstance(e, dict) else str(e) for e in data["errors"]
    ]
    figures = [
        f"operations tested: {data['operations']['tested']} of {data['operations']['total']}",
        f"phases: {', '.join(f'{k} {v}' for k, v in phases.items())}",
        f"test cases: {cases['generated']:,} generated, {cases['with_failures']} with failures, "
        f"{cases['unique_failures']} unique failures, {cases['errored']} errored",
        "cases per operation (all phases): "
        + ", ".join(f"{op} {sent[op]:,}" for op in sorted(operations, key=lambda op: sent[op]))
        + f"; undocumented methods probed: {sum(n for op, n in sent.items() if op not in operations)}",
        f"errors: {', '.join(errors) or 'none'}",
        f"failures: {', '.join(failures) or 'none'}",
        f"warnings: {', '.join(k for k, v in data.get('warnings', {}).items() if v) or 'none'}",
        f"time: {seconds:.0f} s; server RSS at the end: HTTP process {mib(http_rss)}, "
        f"in all {mib(total_rss)}",
    ]
    for line in figures:
        print(line)
    passed = (
        code == 0
        and cases["unique_failures"] == 0
        and cases["errored"] == 0
        and not data["errors"]
        and all(status in ("success", "skipped") for status in phases.values())
    )
    if not passed:
        start_at = output.find("FAILURES")
        print(output[start_at : start_at + 6000] if start_at >= 0 else output[-4000:])
    return report("schemathesis", passed, figures)


def print_outcomes(outcomes: list[Outcome], verbose: bool = False) -> None:
    for o in outcomes:
        peak = "" if o.peak_bytes is None else f", peak {mib(o.peak_bytes)}"
        verdict = "ok  " if o.ok else "FAIL"
        print(f"  {verdict} {o.target:<32} {o.name:<48} {o.got:>6} in {o.seconds:5.2f} s{peak}")
        if not o.ok:
            print(f"       {'; '.join(o.problems)}")
        if verbose or not o.ok:
            print(f"       message: {o.message[:240]}")


def summarize_outcomes(what: str, outcomes: list[Outcome]) -> list[str]:
    failed = [o for o in outcomes if not o.ok]
    peaks = [o.peak_bytes for o in outcomes if o.peak_bytes is not None]
    slowest = max(outcomes, key=lambda o: o.seconds)
    line = (
        f"{what}: {len(outcomes)} cases, {len(failed)} failed; max time {slowest.seconds:.2f} s "
        f"({slowest.target}: {slowest.name})"
    )
    if peaks:
        line += f"; max peak memory {mib(max(peaks))}"
    return [line] + [f"  failed: {o.target}: {o.name} ({'; '.join(o.problems)})" for o in failed]


def check_hostile(args: argparse.Namespace) -> CheckResult:
    """The hostile corpus: the API's cases against a served API, the CLI's in capped subprocesses."""
    print(
        f"== hostile corpus: each case a 4xx or exit 2 naming the field, within {TIME_BOUND:g} s and "
        f"{mib(MEMORY_BOUND)}"
    )
    http = http_cases()
    cli = [c for c in cli_cases() if c.quick or not args.quick]
    http_outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="hardening-hostile-") as tmp:
        workdir = Path(tmp)
        # a computation that hangs is stopped at the case's time bound, so that it cannot hold a
        # computation process (and the cases after it) for the default deadline
        deadline = {"ANNOPLAN_COMPUTATION_DEADLINE": str(int(TIME_BOUND))}
        with Server(workdir, args.workers, deadline) as server, MemorySampler(server) as sampler:
            print(
                f"API: {len(http)} cases against annoplan serve --workers {args.workers} "
                f"({' '.join(f'{k}={v}' for k, v in deadline.items())})"
            )
            with httpx.Client(base_url=server.base_url, timeout=TIME_BOUND + 20) as client:
                for case in http:
                    sampler.reset()
                    start = time.monotonic()
                    try:
                        response = client.request(
                            case.method, case.path, content=case.content(), headers=case.request_headers()
                        )
                        status, ctype, content = (
                            response.status_code,
                            response.headers.get("content-type", ""),
                            response.content,
                        )
                    except httpx.HTTPError as exc:
                        status, ctype, content = 0, "", f"{type(exc).__name__}: {exc}".encode()
                    seconds = time.monotonic() - start
                    time.sleep(2 * sampler.interval)
                    outcome = judge_http(case, status, ctype, content, seconds)
                    outcome.peak_bytes = sampler.peak_process
                    if sampler.peak_process > MEMORY_BOUND:
                        outcome.problems.append(f"a server process peaked at {mib(sampler.peak_process)}")
                    http_outcomes.append(outcome)
            alive = server.process is not None and server.process.poll() is None
        print_outcomes(http_outcomes, args.verbose)
        if not alive:
            print("  FAIL the server died during the corpus")
        print(f"CLI: {len(cli)} cases, each a subprocess capped at {mib(MEMORY_BOUND)} of address space")
        cli_outcomes = []
        for cli_case in cli:
            outcome = run_cli_case(cli_case, workdir)
            cli_outcomes.append(outcome)
            print_outcomes([outcome], args.verbose)
    figures = summarize_outcomes("API", http_outcomes) + summarize_outcomes("CLI", cli_outcomes)
    print()
    for line in figures:
        print(line)
    passed = alive and all(o.ok for o in http_outcomes + cli_outcomes)
    return report("hostile", passed, figures)


def check_crash(args: argparse.Namespace) -> CheckResult:
    """Plans posted with idempotent retries while a computation process and then the server are killed."""
    n_plans, n_clients = (40, 10) if args.quick else (200, 10)
    print(
        f"== crash: {n_plans} plans from {n_clients} clients with idempotent retries; SIGKILL of a "
        "computation process, then of the server (restarted on the same database)"
    )
    run_id = f"{os.getpid()}-{int(time.time())}"
    lock = threading.Lock()
    acknowledged: dict[str, tuple[str, bytes]] = {}
    gave_up: dict[str, str] = {}
    attempts: Counter[str] = Counter()
    replayed = 0
    queue = list(range(n_plans))
    events: list[str] = []

    with tempfile.TemporaryDirectory(prefix="hardening-crash-") as tmp:
        server = Server(Path(tmp), args.workers)
        try:
            server.start()
            print(f"server: annoplan serve --workers {args.workers} on {server.base_url}")
            base_url = server.base_url

            def client() -> None:
                nonlocal replayed
                with httpx.Client(base_url=base_url, timeout=120.0) as http:
                    while True:
                        with lock:
                            if not queue:
                                return
                            i = queue.pop(0)
                        key = f"crash-{run_id}-{i}"
                        body = dumps(small_plan(seed=i))
                        headers = {
                            "X-API-Key": KEY,
                            "Content-Type": "application/json",
                            "Idempotency-Key": key,
                        }
                        give_up_at = time.monotonic() + 300
                        while True:
                            if time.monotonic() > give_up_at:
                                gave_up[key] = "no 201 within 300 s"
                                break
                            try:
                                response = http.post("/v1/plans", content=body, headers=headers)
                            except httpx.TransportError as exc:
                                attempts[type(exc).__name__] += 1
                                time.sleep(0.25)
                                continue
                            attempts[f"HTTP {response.status_code}"] += 1
                            if response.status_code == 201:
                                with lock:
                                    acknowledged[key] = (response.json()["id"], response.content)
                                    replayed += response.headers.get("idempotent-replayed") == "true"
                                break
                            if response.status_code >= 500:
                                time.sleep(
                                    min(2.0, float(response.headers.get("retry-after", "0.25") or 0.25))
                                )
                                continue
                            gave_up[key] = f"HTTP {response.status_code}: {response.text[:200]}"
                            break

            threads = [threading.Thread(target=client, daemon=True) for _ in range(n_clients)]
            start = time.monotonic()
            for thread in threads:
                thread.start()

            def wait_for(count: int) -> None:
                while len(acknowledged) + len(gave_up) < count and any(t.is_alive() for t in threads):
                    time.sleep(0.01)

            wait_for(n_plans // 4)
            workers = server.computation_processes()
            if workers:
                victim = workers[0]
                os.kill(victim, signal.SIGKILL)
                events.append(
                    f"SIGKILL computation process {victim} after {len(acknowledged)} plans acknowledged"
                )
            else:
                events.append("no computation process found to kill")
            wait_for(n_plans // 2)
            acknowledged_before = len(acknowledged)
            server.kill9()
            killed_at = time.monotonic()
            events.append(f"SIGKILL server {server.pid} after {acknowledged_before} plans acknowledged")
            with sqlite3.connect(server.database) as connection:
                after_kill = connection.execute("PRAGMA integrity_check").fetchone()[0]
            events.append(f"integrity_check right after the kill: {after_kill}")
            left, gone_after = server.reap_children(grace=10.0)
            events.append(
                f"processes of the killed server: {'all gone' if not left else f'{left} left, killed'} "
                f"after {gone_after:.1f} s"
            )
            ready_after = server.start()
            events.append(
                f"restarted on the same database: ready {ready_after:.1f} s after the restart, "
                f"{time.monotonic() - killed_at:.1f} s after the kill"
            )
            for thread in threads:
                thread.join(timeout=600)
            wall = time.monotonic() - start

            lost, changed = [], []
            with httpx.Client(base_url=base_url, timeout=60.0) as http:
                for key, (plan_id, content) in acknowledged.items():
                    response = http.get(f"/v1/plans/{plan_id}", headers={"X-API-Key": KEY})
                    if response.status_code != 200:
                        lost.append(f"{key} -> {plan_id}: HTTP {response.status_code}")
                    elif json.loads(response.content) != json.loads(content):
                        changed.append(key)
        finally:
            server.stop()
        with sqlite3.connect(server.database) as connection:
            integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
            stored, keys = connection.execute(
                "SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM annoplan_records WHERE kind = 'plan'"
            ).fetchone()
        log_tail = server.log_tail(1500)

    figures = [
        *events,
        f"requests: {sum(attempts.values())} attempts "
        f"({', '.join(f'{k} {v}' for k, v in sorted(attempts.items()))})",
        f"acknowledged (201): {len(acknowledged)} of {n_plans} "
        f"({replayed} replayed from an earlier attempt); gave up: {len(gave_up)}",
        f"acknowledged plans lost: {len(lost)}; read back changed: {len(changed)}",
        f"stored plans: {stored} rows for {keys} idempotency keys (duplicates: {stored - keys})",
        f"PRAGMA integrity_check: {integrity}",
        f"processes left behind by the servers (killed by this script): {server.left_behind}",
        f"wall time: {wall:.1f} s",
    ]
    for line in figures:
        print(line)
    for line in [*lost[:10], *(f"gave up {k}: {v}" for k, v in list(gave_up.items())[:10])]:
        print(f"  {line}")
    passed = (
        not lost
        and not changed
        and not gave_up
        and len(acknowledged) == n_plans
        and stored == keys == n_plans
        and integrity == "ok"
        and after_kill == "ok"
    )
    if not passed:
        print(f"server log (tail):\n{log_tail}")
    return report("crash", passed, figures)


@dataclass(frozen=True)
class SoakRequest:
    kind: str
    method: str
    path: str
    expected: int
    body: bytes | None = None
    key: str | None = KEY


def soak_requests(n: int, plan_ids: list[str], seed: int, offset: int) -> list[SoakRequest]:
    """``n`` mixed requests in a shuffled order."""
    fit = dumps(example("pilot_fit.json"))
    mix = {"healthz": 15, "fit": 15, "plan": 15, "get": 20, "404": 10, "401": 10, "report.xlsx": 15}
    kinds = [kind for kind, weight in mix.items() for _ in range(weight)]
    rng = random.Random(seed + offset)
    requests = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        plan_id = rng.choice(plan_ids)
        if kind == "healthz":
            requests.append(SoakRequest(kind, "GET", "/healthz", 200))
        elif kind == "fit":
            requests.append(SoakRequest(kind, "POST", "/v1/curves/fit", 200, fit))
        elif kind == "plan":
            requests.append(SoakRequest(kind, "POST", "/v1/plans", 201, dumps(small_plan(seed=offset + i))))
        elif kind == "get":
            requests.append(SoakRequest(kind, "GET", f"/v1/plans/{plan_id}", 200))
        elif kind == "404":
            requests.append(SoakRequest(kind, "GET", f"/v1/plans/no-such-plan-{i}", 404))
        elif kind == "401":
            requests.append(SoakRequest(kind, "GET", f"/v1/plans/{plan_id}", 401, key="not-a-key"))
        else:
            requests.append(SoakRequest(kind, "GET", f"/v1/plans/{plan_id}/report.xlsx", 200))
    rng.shuffle(requests)
    return requests


async def send_all(
    base_url: str, requests: list[SoakRequest], concurrency: int, done: Callable[[int], None] | None = None
) -> tuple[Counter[str], dict[str, list[float]], list[str]]:
    """Send ``requests`` from ``concurrency`` concurrent clients; statuses by kind, latencies by kind, and
    what was unexpected."""
    statuses: Counter[str] = Counter()
    latencies: dict[str, list[float]] = {}
    unexpected: list[str] = []
    pending = list(reversed(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120.0) as client:

        async def worker() -> None:
            while pending:
                request = pending.pop()
                headers = {"X-API-Key": request.key} if request.key else {}
                if request.body is not None:
                    headers["Content-Type"] = "application/json"
                start = time.perf_counter()
                try:
                    response = await client.request(
                        request.method, request.path, content=request.body, headers=headers
                    )
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                latencies.setdefault(request.kind, []).append(time.perf_counter() - start)
                statuses[f"{request.kind} {status}"] += 1
                if status != str(request.expected):
                    unexpected.append(f"{request.kind} {request.method} {request.path[:60]}: {status}")
                if done is not None:
                    done(len(requests) - len(pending))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses, latencies, unexpected


def check_soak(args: argparse.Namespace) -> CheckResult:
    """Mixed requests at 50 concurrent: no unexpected status, and the server's memory flat."""
    n, concurrency, warm_up = (300, 50, 100) if args.quick else (2000, 50, 200)
    print(f"== soak: {n} mixed requests at {concurrency} concurrent after {warm_up} warm-up requests")
    with tempfile.TemporaryDirectory(prefix="hardening-soak-") as tmp:
        with Server(Path(tmp), args.workers) as server:
            print(f"server: annoplan serve --workers {args.workers} on {server.base_url}")
            headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
            plan_ids = []
            for seed in range(5):
                response = httpx.post(
                    f"{server.base_url}/v1/plans",
                    content=dumps(small_plan(seed)),
                    headers=headers,
                    timeout=120,
                )
                response.raise_for_status()
                plan_ids.append(response.json()["id"])
            warm = soak_requests(warm_up, plan_ids, args.seed, 10**6)
            _, _, warm_unexpected = asyncio.run(send_all(server.base_url, warm, concurrency))
            time.sleep(1.0)
            http_start, total_start, _ = server.memory()
            marks: dict[str, tuple[int, int]] = {}

            def done(count: int) -> None:
                if count == n // 2 and "middle" not in marks:
                    http, total, _ = server.memory()
                    marks["middle"] = (http, total)

            requests = soak_requests(n, plan_ids, args.seed, 0)
            with MemorySampler(server, interval=0.5) as sampler:
                start = time.monotonic()
                statuses, latencies, unexpected = asyncio.run(
                    send_all(server.base_url, requests, concurrency, done)
                )
                wall = time.monotonic() - start
            time.sleep(1.0)
            http_end, total_end, _ = server.memory()
            alive = server.process is not None and server.process.poll() is None
            log_tail = server.log_tail(1500)
    http_mid, total_mid = marks.get("middle", (0, 0))
    all_latencies = [x for values in latencies.values() for x in values]
    per_kind = ", ".join(
        f"{kind} p50 {statistics.median(v):.2f} / max {max(v):.2f}" for kind, v in sorted(latencies.items())
    )
    ratio_http = http_end / http_start if http_start else float("inf")
    ratio_total = total_end / total_start if total_start else float("inf")
    figures = [
        f"requests: {sum(statuses.values())} in {wall:.1f} s ({sum(statuses.values()) / wall:.1f}/s); "
        f"unexpected statuses: {len(unexpected)} (warm-up: {len(warm_unexpected)})",
        f"statuses: {', '.join(f'{k} x{v}' for k, v in sorted(statuses.items()))}",
        f"latency (s): p50 {statistics.median(all_latencies):.2f}, max {max(all_latencies):.2f}; {per_kind}",
        f"server RSS, HTTP process: after warm-up {mib(http_start)}, middle {mib(http_mid)}, "
        f"end {mib(http_end)} (end/start {ratio_http:.2f})",
        f"server RSS, all its processes: after warm-up {mib(total_start)}, middle {mib(total_mid)}, "
        f"end {mib(total_end)} (end/start {ratio_total:.2f}; peak sampled {mib(sampler.peak_total)})",
    ]
    for line in figures:
        print(line)
    for line in (warm_unexpected + unexpected)[:20]:
        print(f"  unexpected: {line}")
    passed = alive and not unexpected and not warm_unexpected and ratio_http <= 1.5 and ratio_total <= 1.5
    if not passed:
        print(f"server log (tail):\n{log_tail}")
    return report("soak", passed, figures)


CHECKS: dict[str, Callable[[argparse.Namespace], CheckResult]] = {
    "schemathesis": check_schemathesis,
    "hostile": check_hostile,
    "crash": check_crash,
    "soak": check_soak,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("check", choices=[*CHECKS, "all"])
    parser.add_argument("--quick", action="store_true", help="a small version of each check")
    parser.add_argument("--workers", type=int, default=2, help="annoplan serve --workers")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--verbose", action="store_true", help="hostile: print every case's message")
    args = parser.parse_args(argv)
    print(f"command: python {' '.join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]])}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    names = list(CHECKS) if args.check == "all" else [args.check]
    results = []
    for name in names:
        start = time.monotonic()
        try:
            result = CHECKS[name](args)
        except Exception as exc:  # a check that cannot run has failed
            print(f"{name}: could not run: {type(exc).__name__}: {exc}")
            result = CheckResult(name, False, [f"could not run: {exc}"])
        result.figures.append(f"check time: {time.monotonic() - start:.0f} s")
        results.append(result)
    if len(results) > 1:
        print("== summary")
        for result in results:
            print(f"{result.name}: {'PASS' if result.passed else 'FAIL'}")
            for line in result.figures:
                print(f"  {line}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
