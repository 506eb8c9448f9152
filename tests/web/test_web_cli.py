"""``annoplan web``: the page on 127.0.0.1 with a key made for the run when none is configured."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

#: how long the server may take to start before the test gives up (a bound, not a timing assertion)
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_web_serves_the_page_and_the_api_with_the_printed_key(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOPLAN_")}
    env["ANNOPLAN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'annoplan.db'}"
    command = [str(Path(sys.executable).parent / "annoplan"), "web", "--no-open", "--port", str(port)]
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as errors:
        process = subprocess.Popen(command, env=env, stderr=errors, stdout=subprocess.DEVNULL, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                page = httpx.get(base + "/")
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.1)
        assert page.status_code == 200 and "Content-Security-Policy" in page.headers
        printed = re.search(r"API key for this run \(paste it into the page\): (\S+)", stderr.read_text())
        assert printed, stderr.read_text()
        pilot = '{"rounds": [{"n_labels": 100, "value": 0.8}, {"n_labels": 200, "value": 0.85}]}'
        url = base + "/v1/pilots/import"
        imported = httpx.post(url, json={"content": pilot}, headers={"X-API-Key": printed[1]})
        assert imported.status_code == 200
        assert httpx.post(url, json={"content": pilot}).status_code == 401
    finally:
        process.terminate()
        process.wait(30)
