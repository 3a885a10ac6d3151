"""The embedded Prefect server lives no longer than the grants process that started it, also when
that process is killed with SIGKILL (no orphans holding memory and the port)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from grants.engine.prefect_server import _port_free

SCRIPT = """
import sys, time
from pathlib import Path
from grants.engine.prefect_server import PrefectServer

server = PrefectServer(Path(sys.argv[1]), port=int(sys.argv[2]))
server.start(timeout=150)
print(server.port, server.proc.pid, flush=True)
time.sleep(600)
"""


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_grants_process_takes_its_prefect_server_along(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    watch = None
    owner = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "prefect"), str(free)],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        port, watch = map(int, owner.stdout.readline().split())
        assert _answers(port) and not _port_free("127.0.0.1", port)
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(10)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and (_alive(watch) or _answers(port)):
            time.sleep(0.5)
        assert not _answers(port), "the Prefect server outlived the process that started it"
        assert not _alive(watch)
        assert _port_free("127.0.0.1", port)         # the next start takes the same port
    finally:
        if owner.poll() is None:
            owner.kill()
        if watch is not None and _alive(watch):      # this test failed: leave no orphan behind
            os.killpg(watch, signal.SIGKILL)


def test_the_next_start_ends_a_server_left_behind_and_takes_its_port_back(tmp_path):
    """Both the grants process and the watch killed (kill -9 of everything but the server): the
    server lives on; the next start of the same GRANTS_HOME ends it and uses the same port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    home = str(tmp_path / "prefect")
    first = second = None
    groups = []
    try:
        first = subprocess.Popen([sys.executable, "-c", SCRIPT, home, str(free)], stdout=subprocess.PIPE, text=True,
                                 env=env)
        port, watch = map(int, first.stdout.readline().split())
        groups.append(watch)
        os.kill(watch, signal.SIGKILL)                     # the watch first, so that it cannot act
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        time.sleep(1)
        assert _answers(port), "the server should outlive a killed watch (the case this start handles)"
        second = subprocess.Popen([sys.executable, "-c", SCRIPT, home, str(free)], stdout=subprocess.PIPE,
                                  text=True, env=env)
        port2, watch2 = map(int, second.stdout.readline().split())
        groups.append(watch2)
        assert port2 == port                                # the port taken back, not the next one
        try:
            os.killpg(watch, 0)
            raise AssertionError("the orphan's processes still run")
        except ProcessLookupError:
            pass
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
        for g in groups:                                    # this test failed: leave no orphan behind
            try:
                os.killpg(g, signal.SIGKILL)
            except ProcessLookupError:
                pass
