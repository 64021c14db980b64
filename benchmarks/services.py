"""Real servers on 127.0.0.1 for tests, benchmarks and evals: `advisor serve`, PostgreSQL (Debian's package),
`chroma run`, nginx.

Each is a context manager that starts the server on a free port in a temporary directory and stops it after.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


class Unavailable(RuntimeError):
    """The server's program is not installed here; the message says how to install it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin(name: str) -> Path | None:
    found = shutil.which(name)
    if found:
        return Path(found)
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return versions[-1] if versions else None


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL cluster of its own; yields a URL without a database name (see `new_database`). As root, the
    server runs as the package's `postgres` user (PostgreSQL refuses to run as root)."""
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise Unavailable("PostgreSQL is not installed (initdb, pg_ctl): `make system-deps` installs it from "
                          "Debian's packages")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="advisor-pg-"))
    if as_user:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    user = "advisor" if as_user else getpass.getuser()
    subprocess.run([*as_user, str(initdb), "-D", str(data), "-A", "trust", "-U", user, "--no-sync"], check=True,
                   capture_output=True, timeout=120)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, str(pg_ctl), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w",
                    "start"], check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True,
                       timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def postgres_pid(url: str) -> int | None:
    """The postmaster's pid (its backends are its children), for CPU accounting."""
    import psycopg

    with psycopg.connect(url + "/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'").fetchone()
    pid_file = Path(str(row[0])) / "postmaster.pid" if row else None
    return int(pid_file.read_text().split()[0]) if pid_file and pid_file.exists() else None


def new_database(server: str, name: str) -> str:
    """A fresh, empty database on a server from `postgres()`; its URL."""
    import psycopg

    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last}")


REPO = Path(__file__).resolve().parent.parent


@contextmanager
def advisor_server(env: dict[str, str], log_path: Path, *, timeout: float = 300.0) -> Iterator[tuple[str, int]]:
    """`advisor serve` with `env` on a free port, logging to `log_path`; yields its URL and pid once /readyz says it
    is warm, and stops it after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "advisor.cli", "serve", "--port", str(port)], env=env,
                                cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the server did not start within {timeout:.0f} s: see {log_path}")
                time.sleep(0.2)
            yield url, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextmanager
def chroma() -> Iterator[tuple[str, int]]:
    """`chroma run` (installed with chromadb); yields its URL and pid."""
    program = Path(sys.executable).parent / "chroma"
    if not program.exists():
        raise Unavailable(f"{program} not found: `make install` installs chromadb, which provides it")
    root = Path(tempfile.mkdtemp(prefix="advisor-chroma-"))
    port = free_port()
    with (root / "server.log").open("w") as log:
        proc = subprocess.Popen([str(program), "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port",
                                 str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat")
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    shutil.rmtree(root, ignore_errors=True)


NGINX_CONF = """worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/body; proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fcgi;
  uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
{body}
}}
"""


@contextmanager
def nginx(upstreams: list[str], config: Path) -> Iterator[tuple[str, int]]:
    """nginx in front of `upstreams` (host:port), with the site config `config` (deploy/nginx.conf's server
    block, which proxies to `upstream advisor`); yields its URL and master pid."""
    program = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(program).exists():
        raise Unavailable("nginx is not installed: `apt-get install nginx-light`")
    root = Path(tempfile.mkdtemp(prefix="advisor-nginx-"))
    port = free_port()
    site = config.read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
    servers = "\n".join(f"    server {u};" for u in upstreams)
    site = site.replace("    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;", servers)
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, body=site))
    subprocess.run([program, "-c", str(root / "nginx.conf"), "-p", str(root)], check=True, capture_output=True,
                   timeout=30)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", int((root / "nginx.pid").read_text())
    finally:
        subprocess.run([program, "-c", str(root / "nginx.conf"), "-p", str(root), "-s", "stop"], capture_output=True,
                       timeout=30)
        shutil.rmtree(root, ignore_errors=True)
