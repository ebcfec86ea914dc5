#!/usr/bin/env python3
"""Run a command beside throwaway PostgreSQL and Redis servers.

    python scripts/with-test-services.py -- pytest -q

Starts both on free loopback ports inside a fresh temporary directory, runs the command with
TEST_POSTGRES_URL, TEST_REDIS_URL, TEST_REDIS_SERVER, TEST_PG_BIN (and TEST_CHROMIUM when found)
set, then stops both servers and deletes the directory, also when the command fails or on
Ctrl-C / SIGTERM. Exits with the command's exit code. Standard library only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_DATABASE = "vru"
START_TIMEOUT = 30.0
IS_ROOT = os.geteuid() == 0
# Every server process started, with the signal that stops it cleanly, registered the moment it
# starts so that an interruption at any point (even during start-up) still stops it.
STARTED: list[tuple[subprocess.Popen, int]] = []


class Stop(Exception):
    """Raised from the SIGTERM handler so that `finally` blocks clean up."""


def log(message: str) -> None:
    print(f"with-test-services: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    # The port is free now; a race with another process is possible but unlikely, and start-up
    # failures are retried on a new port.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres() -> dict:
    """PostgreSQL refuses to run as root: drop to the postgres user when we are root."""
    return {"user": "postgres", "group": "postgres", "extra_groups": []} if IS_ROOT else {}


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_until(ready, proc: subprocess.Popen, what: str, logfile: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail(logfile)}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {START_TIMEOUT:.0f}s:\n{tail(logfile)}")


def stop(proc: subprocess.Popen | None, sig: int) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_postgres(tmp: Path) -> int:
    data, sockets = tmp / "pgdata", tmp / "pgsock"
    for directory in (data, sockets):
        directory.mkdir(mode=0o700)
        if IS_ROOT:
            shutil.chown(directory, "postgres", "postgres")
    logfile = tmp / "postgres.log"
    initdb = "-U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync --no-instructions"
    with logfile.open("ab") as out:
        subprocess.run(
            [PG_BIN / "initdb", "-D", data, *initdb.split()],
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            **as_postgres(),
        )
    for _attempt in range(3):
        port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": port,
            "unix_socket_directories": sockets,
            "max_connections": 200,
            # Durability is pointless for a database that is deleted after the run.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        args = [PG_BIN / "postgres", "-D", data]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        with logfile.open("ab") as out:
            # Own session: a Ctrl-C in the terminal reaches the command, not the servers, so the
            # servers stay up until the command has finished and we stop them ourselves.
            proc = subprocess.Popen(
                args,
                cwd=tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **as_postgres(),
            )
        STARTED.append((proc, signal.SIGINT))  # SIGINT is PostgreSQL's "fast" shutdown

        client = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        try:
            wait_until(
                lambda client=client: (
                    subprocess.run([PG_BIN / "pg_isready", "-q", *client]).returncode == 0
                ),
                proc,
                "postgres",
                logfile,
            )
        except RuntimeError:
            stop(proc, signal.SIGINT)
            if "already in use" in tail(logfile):
                continue
            raise
        subprocess.run([PG_BIN / "createdb", *client, PG_DATABASE], check=True)
        return port
    raise RuntimeError("postgres: no free port after 3 attempts")


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(tmp: Path, server: str) -> int:
    workdir = tmp / "redis"
    workdir.mkdir()
    logfile = tmp / "redis.log"
    for _attempt in range(3):
        port = free_port()
        # No persistence: nothing survives the run anyway.
        options = {
            "bind": "127.0.0.1",
            "port": port,
            "dir": workdir,
            "save": "",
            "appendonly": "no",
        }
        args = [server, "--daemonize", "no", "--logfile", ""]
        for key, value in options.items():
            args += [f"--{key}", str(value)]
        with logfile.open("ab") as out:
            proc = subprocess.Popen(
                args, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        STARTED.append((proc, signal.SIGTERM))
        try:
            wait_until(lambda port=port: redis_ping(port), proc, "redis-server", logfile)
        except RuntimeError:
            stop(proc, signal.SIGTERM)
            if "Address already in use" in tail(logfile):
                continue
            raise
        return port
    raise RuntimeError("redis-server: no free port after 3 attempts")


def on_sigterm(signum, frame):
    raise Stop


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    redis_server = shutil.which("redis-server")
    if not (PG_BIN / "initdb").exists() or not redis_server:
        log("PostgreSQL 15 or redis-server missing: run scripts/install-system-packages.sh")
        return 1

    signal.signal(signal.SIGTERM, on_sigterm)
    tmp = Path(tempfile.mkdtemp(prefix="vru-test-services-"))
    tmp.chmod(0o755)  # the postgres user must reach its data directory inside
    command = None
    try:
        pg_port = start_postgres(tmp)
        redis_port = start_redis(tmp, redis_server)

        env = dict(os.environ)
        env.update(
            TEST_POSTGRES_URL=f"postgres://postgres@127.0.0.1:{pg_port}/{PG_DATABASE}",
            TEST_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
            TEST_REDIS_SERVER=redis_server,
            TEST_PG_BIN=str(PG_BIN),
        )
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium:
            env["TEST_CHROMIUM"] = chromium

        command = subprocess.Popen(argv, env=env)
        try:
            return command.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the command too; let it finish its own clean-up.
            return command.wait()
    except KeyboardInterrupt:
        log("interrupted, stopping services")
        return 130
    except Stop:
        log("terminated, stopping services")
        return 143
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        log(str(exc))
        return 1
    finally:
        # Ignore further Ctrl-C / SIGTERM so that the clean-up itself cannot be cut short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(command, signal.SIGTERM)
        for proc, sig in STARTED:
            stop(proc, sig)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # A command killed by a signal reports -N; shells report that as 128+N.
    sys.exit(128 - code if code < 0 else code)
