"""A PostgreSQL server for the storage tests: the one in ``ANNOPLAN_TEST_POSTGRES_URL``, or a throwaway one.

Without ``ANNOPLAN_TEST_POSTGRES_URL``, the session starts its own server from the installed binaries
(``initdb`` and ``pg_ctl``, found on PATH, by ``pg_config --bindir`` or in ``/usr/lib/postgresql/*/bin``)
in a temporary directory, listening on 127.0.0.1 on a free port only (no Unix socket), with password
authentication, a login role that owns a fresh database, the time zone +05:45 (``SERVER_TIMEZONE``) and
no durability (fsync off: it is thrown away).
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user the Debian
package creates. It is stopped and its directory deleted at the end of the session.

With ``ANNOPLAN_TEST_POSTGRES_URL`` (``postgresql+psycopg://user:password@host:port/database``, a role that
may create databases), the session creates a fresh database there and drops it at the end.

Each test gets a schema of its own in that database (``search_path`` set in the URL), dropped after it.

When there is no server to use, the tests that need one skip with the reason, or fail with it when
``ANNOPLAN_REQUIRE_POSTGRES=1`` (``make test`` sets it, and installs PostgreSQL when it is missing).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.engine import Engine

URL_VARIABLE = "ANNOPLAN_TEST_POSTGRES_URL"
REQUIRE_VARIABLE = "ANNOPLAN_REQUIRE_POSTGRES"
#: the unprivileged user that runs the server when the tests run as root
SYSTEM_USER = "postgres"
#: the throwaway server's session time zone: not UTC, and not a whole hour, so that code taking the
#: database's local time for UTC fails the tests
SERVER_TIMEZONE = "Asia/Kathmandu"
#: seconds ``pg_ctl`` waits for the server to start or stop
START_TIMEOUT = 60


class Unavailable(Exception):
    """No PostgreSQL server can be used; the message says why and what to do."""


def unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``, or fail it when ``ANNOPLAN_REQUIRE_POSTGRES=1``."""
    if os.environ.get(REQUIRE_VARIABLE, "") not in ("", "0"):
        pytest.fail(f"PostgreSQL is required ({REQUIRE_VARIABLE}=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def find_bindir() -> Path | None:
    """The directory with ``initdb`` and ``pg_ctl``: from PATH, ``pg_config --bindir``, or the newest
    ``/usr/lib/postgresql/<version>/bin`` (Debian keeps them off PATH)."""
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            bindir = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            candidates.append(Path(bindir))
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    debian.sort(
        key=lambda path: [int(part) if part.isdigit() else 0 for part in Path(path).parent.name.split(".")]
    )
    candidates.extend(Path(path) for path in reversed(debian))
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ThrowawayServer:
    """A PostgreSQL cluster in a temporary directory on 127.0.0.1; :meth:`stop` deletes it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_user: str | None = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise Unavailable(
                    f"running as root and there is no {SYSTEM_USER!r} user to run the server as "
                    f"(install Debian's postgresql package, or set {URL_VARIABLE})"
                ) from None
            self.as_user = SYSTEM_USER
        self.root = Path(tempfile.mkdtemp(prefix="annoplan-postgres-", dir=self.parent_directory()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.superuser_password = secrets.token_hex(16)
        if self.as_user is not None:
            self.root.chmod(0o700)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.port = 0

    def parent_directory(self) -> str:
        """The temporary directory, or /tmp when the server's user could not reach into it (as root)."""
        parent = Path(tempfile.gettempdir()).resolve()
        if self.as_user is None or all(path.stat().st_mode & 0o001 for path in (parent, *parent.parents)):
            return str(parent)
        return "/tmp"

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program (as the ``postgres`` user when root) in the cluster's directory."""
        prefix = ["runuser", "-u", self.as_user, "--"] if self.as_user is not None else []
        return subprocess.run(
            [*prefix, str(self.bindir / command[0]), *command[1:]],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C"},
            timeout=START_TIMEOUT + 30,
        )

    def start(self) -> None:
        password_file = self.root / "superuser-password"
        self.write(password_file, self.superuser_password)
        done = self.run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--pwfile",
            str(password_file),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--no-sync",
        )
        password_file.unlink()
        if done.returncode != 0:
            raise Unavailable(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        for _attempt in range(3):  # another process may take the free port before the server does
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
                f"-c TimeZone={SERVER_TIMEZONE}"
            )
            done = self.run(
                "pg_ctl", "start", "--pgdata", str(self.data), "--log", str(self.log), "--wait",
                "--timeout", str(START_TIMEOUT), "-o", options,
            )  # fmt: skip
            if done.returncode == 0:
                return
        log = self.log.read_text(errors="replace") if self.log.exists() else ""
        raise Unavailable(f"pg_ctl start failed: {done.stderr.strip() or done.stdout.strip()}\n{log}")

    def write(self, path: Path, content: str) -> None:
        path.write_text(content)
        path.chmod(0o600)
        if self.as_user is not None:
            account = pwd.getpwnam(self.as_user)
            os.chown(path, account.pw_uid, account.pw_gid)

    @property
    def superuser_url(self) -> URL:
        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            password=self.superuser_password,
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )

    def stop(self) -> None:
        if self.data.exists():
            self.run("pg_ctl", "stop", "--pgdata", str(self.data), "--mode", "fast", "--wait")
        shutil.rmtree(self.root, ignore_errors=True)


def autocommit_engine(url: URL) -> Engine:
    """An engine for DDL that may not run in a transaction (CREATE / DROP DATABASE)."""
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def quoted(identifier: str) -> str:
    assert identifier.replace("_", "").isalnum(), identifier
    return f'"{identifier}"'


@contextlib.contextmanager
def fresh_database(admin_url: URL, owner: str | None = None) -> Iterator[URL]:
    """A new database on the server of ``admin_url`` (owned by ``owner``), dropped afterwards."""
    name = f"annoplan_test_{secrets.token_hex(6)}"
    admin = autocommit_engine(admin_url)
    try:
        with admin.connect() as connection:
            owned = f" OWNER {quoted(owner)}" if owner else ""
            connection.execute(
                text(f"CREATE DATABASE {quoted(name)}{owned} ENCODING 'UTF8' TEMPLATE template0")
            )
        yield admin_url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)"))
        admin.dispose()


@contextlib.contextmanager
def session_database() -> Iterator[URL]:
    """The URL of a fresh database for this test session; see the module docstring."""
    given = os.environ.get(URL_VARIABLE, "").strip()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Unavailable("the psycopg driver is not installed (pip install -e '.[test]')") from None
    if given:
        with fresh_database(make_url(given)) as url:
            yield url
        return
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable(
            "no initdb/pg_ctl on PATH, from pg_config or in /usr/lib/postgresql/*/bin "
            f"(make test installs Debian's postgresql package; or set {URL_VARIABLE})"
        )
    server = ThrowawayServer(bindir)
    try:
        server.start()
        role, password = "annoplan_test", secrets.token_hex(16)
        admin = autocommit_engine(server.superuser_url)
        with admin.connect() as connection:
            connection.execute(text(f"CREATE ROLE {quoted(role)} LOGIN PASSWORD '{password}'"))
        admin.dispose()
        with fresh_database(server.superuser_url, owner=role) as url:
            yield url.set(username=role, password=password)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A fresh PostgreSQL database for the session (skips or fails when there is none, see above)."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(session_database())
        except Unavailable as reason:
            unavailable(str(reason))
        yield url


@pytest.fixture
def postgres_url(postgres_database: URL) -> Iterator[str]:
    """The URL of an empty schema of its own for this test (the schema is the URL's ``search_path``)."""
    schema = f"test_{secrets.token_hex(6)}"
    engine = create_engine(postgres_database)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {quoted(schema)}"))
    try:
        url = postgres_database.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {quoted(schema)} CASCADE"))
        engine.dispose()
