"""The Prefect server of the embedded default: `prefect server start` as a child process, its home
under $GRANTS_HOME/prefect, with every service of Prefect's own running (its scheduler makes the
daily flows' runs from their deployment schedules)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def prefect_environment(prefect_home: Path) -> dict[str, str]:
    """Settings for every Prefect process of the embedded default."""
    return {
        "PREFECT_HOME": str(prefect_home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"),
        # SQLite under Prefect's server answers 503 "database is locked" under parallel writes;
        # the client retries those.
        "PREFECT_CLIENT_MAX_RETRIES": "8",
    }


def use_environment(config) -> None:
    """Set the embedded default's Prefect settings for this process; before Prefect is imported,
    which reads them once (the user's own PREFECT_* values win)."""
    for k, v in prefect_environment(config.prefect_home).items():
        if k != "PREFECT_HOME" or config.embedded_engine:
            os.environ.setdefault(k, v)


def use_client_environment(config) -> None:
    """Quiet, offline-safe Prefect clients whose files stay in GRANTS_HOME (set before Prefect is
    imported)."""
    os.environ.setdefault("PREFECT_HOME", str(config.prefect_home))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # every short-lived client (run_deployment makes one a call) would ask the server's version first
    os.environ.setdefault("PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED", "false")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ours(pgid: int, prefect_home: Path) -> bool:
    """Is process group `pgid` an embedded Prefect server of this PREFECT_HOME (the watch, or the
    server left alone when the watch was killed too), not a group that got a recycled id?"""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if (any(b"prefect" in part for part in cmdline)
                and f"PREFECT_HOME={prefect_home}".encode() in environ):
            return True
    return False


def _port_free(host: str, port: int) -> bool:
    """Nobody listens there. SO_REUSEADDR as the server itself binds: connections of a server that
    just stopped, still in TIME_WAIT, do not keep the port (else every restart took the next one)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


class PrefectServer:
    """A `prefect server start` subprocess with its home under $GRANTS_HOME/prefect."""

    def __init__(self, prefect_home: Path, host: str = "127.0.0.1", port: int = 4200):
        self.home = prefect_home
        self.host = host
        self.port = port
        self.proc: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pidfile(self) -> Path:
        return self.home / "server.pid"

    def end_orphan(self, grace: float = 15) -> int | None:
        """A server an earlier life of this GRANTS_HOME left running (its grants process and the
        watch both killed, or a restart quicker than the watch): ended, so that its memory is freed
        and this start gets the port back. Only a process group whose leader is our watch with this
        PREFECT_HOME is touched. Returns the group ended, if any."""
        try:
            pgid = int(self.pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if not _ours(pgid, self.home):
            self.pidfile.unlink(missing_ok=True)
            return None
        try:
            os.killpg(pgid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _group_alive(pgid):
                time.sleep(0.1)
            if _group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pidfile.unlink(missing_ok=True)
        return pgid

    def start(self, timeout: float = 90) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.end_orphan() is not None:
            deadline = time.monotonic() + 10          # the kernel frees the port a moment later
            while time.monotonic() < deadline and not _port_free(self.host, self.port):
                time.sleep(0.1)
        port = self.port
        while not _port_free(self.host, port):
            port += 1
        self.port = port
        env = {**os.environ, **prefect_environment(self.home)}
        env.pop("PREFECT_API_URL", None)
        logf = open(self.home / "server.log", "ab")  # noqa: SIM115 - the server's stdout for its whole life
        # through the watch: the server ends with this process, also when it is killed (prefect_watch)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grants.engine.prefect_watch", str(os.getpid()),
             sys.executable, "-m", "prefect", "server", "start", "--host", self.host, "--port", str(port)],
            env=env, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pidfile.write_text(f"{self.proc.pid} {port}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Prefect server exited with {self.proc.returncode}; see {self.home / 'server.log'}")
            if self.healthy():
                return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"Prefect server did not become healthy in {timeout} s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.pidfile.unlink(missing_ok=True)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def flush_run_logs(timeout: float = 5) -> None:
    """Send the flow runs' last log lines to the server before it stops. Prefect's worker hands back
    a coroutine where this thread has an event loop; then the lines are dropped, not awaited."""
    import inspect

    from prefect.logging.handlers import APILogWorker

    result = APILogWorker.drain_all(timeout=timeout)
    if inspect.iscoroutine(result):
        result.close()
