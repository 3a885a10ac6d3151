#!/usr/bin/env python
"""Measure Prefect 3 execution patterns for the "embedded default" of `grants serve`.

Run:  python bench/engine_patterns.py            (needs prefect 3.x; stdlib + prefect only)
      BENCH_N=10 python bench/engine_patterns.py (fewer repetitions)

Everything talks to 127.0.0.1 only. A private PREFECT_HOME (temp dir, SQLite) is
created and removed at the end. Telemetry is off (DO_NOT_TRACK=1,
PREFECT_SERVER_ANALYTICS_ENABLED=false) except in the one explicit telemetry
check, where analytics are switched on but all https traffic is sent to a closed
loopback port through HTTPS_PROXY (simulates "no internet" without leaving the box).

Measured (median / p95 over N runs unless noted):
  5. `prefect server start` until GET /api/health is OK (cold = new DB, warm = existing DB)
  1. empty @flow called in-process, default heartbeat (180 s)
  2. same, heartbeat disabled with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
  3. same flow submitted from a "request" thread to a ThreadPoolExecutor(2)
  4. run_deployment(timeout=0) to a flow.serve() subprocess, runner poll 10 s (default) and 1 s
  6. 20 flows on 2 / 4 threads against the SQLite-backed server: failures, 503 retries, "database is locked"
  + flow retries work in a worker thread, runs are visible via the API,
    telemetry behaviour without internet.
"""
from __future__ import annotations

import os
import sys

CHILD = len(sys.argv) > 2 and sys.argv[1] == "--child"

if __name__ == "__main__" and not CHILD:
    # Must happen before `import prefect`: settings are read at import time and
    # are NOT inherited by ThreadPoolExecutor threads if set via temporary_settings.
    import socket
    import tempfile

    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    BENCH_HOME = tempfile.mkdtemp(prefix="engine-bench-")
    BENCH_PORT = _free_port()
    os.environ.update(
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_HOME=BENCH_HOME,
        PREFECT_API_URL=f"http://127.0.0.1:{BENCH_PORT}/api",
        # keep the console quiet; flow logs are still shipped to the API (UI)
        PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="WARNING",
    )
    for _k in ("PREFECT_PROFILES_PATH", "PREFECT_PROFILE"):
        os.environ.pop(_k, None)

import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

from prefect import flow, task  # noqa: E402


# --------------------------------------------------------------------------- flows
@flow(name="bench-empty", retries=2, retry_delay_seconds=0)
def empty_flow() -> None:
    return None


@task
def noop_task(i: int) -> int:
    return i


@flow(name="bench-5-tasks", retries=2, retry_delay_seconds=0)
def five_task_flow() -> int:
    return sum(noop_task(i) for i in range(5))


_FLAKY_CALLS = {"n": 0}


@flow(name="bench-flaky", retries=2, retry_delay_seconds=0)
def flaky_flow() -> str:
    _FLAKY_CALLS["n"] += 1
    if _FLAKY_CALLS["n"] == 1:
        raise RuntimeError("first attempt fails on purpose")
    return "ok"


# --------------------------------------------------------------------------- children
def _child_main() -> None:
    mode = sys.argv[2]
    if mode == "serve":  # python engine_patterns.py --child serve <deployment-name>
        empty_flow.serve(name=sys.argv[3], print_starting_message=False)
    elif mode == "flow":  # one in-process flow run (telemetry check)
        state = empty_flow(return_state=True)
        print(f"CHILD_STATE={state.type.value}", flush=True)
    else:
        raise SystemExit(f"unknown child mode {mode}")


# --------------------------------------------------------------------------- helpers
OUT: dict = {}
PROCS: list = []  # every subprocess we start (own process group each) - for the watchdog


def _watchdog_abort() -> None:
    sys.stderr.write("\nWATCHDOG: time limit reached, killing our subprocesses and exiting\n")
    for p in PROCS:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    sys.stderr.flush()
    os._exit(3)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return {"n": 0}
    p95 = xs[min(n - 1, max(0, int(round(0.95 * n + 0.5)) - 1))]  # nearest-rank
    return {
        "n": n,
        "median": statistics.median(xs),
        "p95": p95,
        "min": xs[0],
        "max": xs[-1],
    }


def fmt(s: dict, unit: str = "s", scale: float = 1.0) -> str:
    if not s.get("n"):
        return "n/a"
    return (
        f"median {s['median'] * scale:.3f}{unit}  p95 {s['p95'] * scale:.3f}{unit}  "
        f"min {s['min'] * scale:.3f}{unit}  max {s['max'] * scale:.3f}{unit}  (n={s['n']})"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_cli() -> list[str]:
    return [sys.executable, "-m", "prefect"]


class Server:
    """`prefect server start` as a subprocess in its own process group."""

    def __init__(self, home: str, port: int, log_path: Path, extra_env: dict | None = None):
        self.home, self.port, self.log_path = home, port, log_path
        env = os.environ.copy()
        env.pop("PREFECT_API_URL", None)
        env.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)
        env.update(
            PREFECT_HOME=home,
            PREFECT_SERVER_LOGGING_LEVEL="WARNING",
            PREFECT_SERVER_LOG_RETRYABLE_ERRORS="true",  # so 503/"database is locked" show in the log
        )
        env.update(extra_env or {})
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> float:
        self._logf = open(self.log_path, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            prefect_cli() + ["server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._logf, stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
        )
        PROCS.append(self.proc)
        url = f"http://127.0.0.1:{self.port}/api/health"
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited rc={self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become healthy")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)  # our own process group only
                self.proc.wait(timeout=20)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self._logf.close()

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")


def locked_by_stmt(server_log: str) -> dict:
    """One entry per logged 503: the first SQL statement (verb + table) after the log line."""
    out: dict = {}
    for chunk in server_log.split("Encountered retryable exception in request")[1:]:
        if "database is locked" not in chunk:
            key = "other"
        else:
            m = re.search(r"\[SQL: (INSERT INTO|UPDATE|DELETE FROM|SELECT)\s+(\w+)?", chunk)
            key = f"{m.group(1)} {m.group(2) or ''}".strip() if m else "locked (no SQL)"
        out[key] = out.get(key, 0) + 1
    return out


def stop_child(p: subprocess.Popen) -> None:
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGINT)
            p.wait(timeout=20)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=10)


class RetryCounter(logging.Handler):
    """Counts the prefect client's 'retryable status code' debug messages (429/502/503)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.codes: dict[str, int] = {}
        self.exceptions = 0
        self._mu = threading.Lock()  # NB: not self.lock (that is logging.Handler's own lock)

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        with self._mu:
            m = re.search(r"retryable status code (\d+)", msg)
            if m:
                self.codes[m.group(1)] = self.codes.get(m.group(1), 0) + 1
            elif "retryable exception" in msg:
                self.exceptions += 1
        if record.levelno >= logging.WARNING:
            sys.stderr.write(f"prefect.client {record.levelname}: {msg}\n")

    def snapshot(self) -> tuple[dict, int]:
        with self._mu:
            return dict(self.codes), self.exceptions


# --------------------------------------------------------------------------- benchmark
def main() -> int:
    import prefect
    import prefect.flow_engine as fe
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.deployments import run_deployment
    from prefect.settings import (
        PREFECT_CLIENT_MAX_RETRIES,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_RUNNER_POLL_FREQUENCY,
        temporary_settings,
    )

    N = int(os.environ.get("BENCH_N", "20"))
    limit = float(os.environ.get("BENCH_TIME_LIMIT", "295"))  # hard watchdog
    budget = limit - 30  # what the adaptive repetition counts plan for
    wd = threading.Timer(limit, _watchdog_abort)
    wd.daemon = True
    wd.start()
    N_SERVE10 = max(4, N // 2)
    t_start = time.perf_counter()
    home, port = os.environ["PREFECT_HOME"], int(os.environ["PREFECT_API_URL"].split(":")[2].split("/")[0])
    server_log = Path(home) / "server.log"
    log(f"prefect {prefect.__version__}, python {platform.python_version()}, PREFECT_HOME={home}, port={port}")
    OUT["env"] = {
        "prefect": prefect.__version__,
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "heartbeat_default": PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value(),
        "runner_poll_default": PREFECT_RUNNER_POLL_FREQUENCY.value(),
        "client_max_retries_default": PREFECT_CLIENT_MAX_RETRIES.value(),
    }

    # heartbeat counter: wraps the method the heartbeat thread calls
    hb_calls = {"n": 0}
    _orig_emit = fe.BaseFlowRunEngine._emit_flow_run_heartbeat

    def _counting_emit(self, *a, **kw):
        hb_calls["n"] += 1
        return _orig_emit(self, *a, **kw)

    fe.BaseFlowRunEngine._emit_flow_run_heartbeat = _counting_emit

    retry_counter = RetryCounter()
    client_logger = logging.getLogger("prefect.client")

    def attach_retry_counter() -> None:
        # prefect configures logging lazily; attach after it did so
        client_logger.setLevel(logging.DEBUG)
        client_logger.propagate = False
        if retry_counter not in client_logger.handlers:
            client_logger.handlers = [retry_counter]

    def retries_since(snap) -> dict:
        codes1, exc1 = retry_counter.snapshot()
        d = {k: v - snap[0].get(k, 0) for k, v in codes1.items() if v - snap[0].get(k, 0)}
        if exc1 - snap[1]:
            d["exc"] = exc1 - snap[1]
        return d

    def run_no_hb(fn=empty_flow):
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            return fn(return_state=True)

    def run_default(fn=empty_flow):
        return fn(return_state=True)

    server = Server(home, port, server_log)
    children: list[subprocess.Popen] = []
    try:
        # ---------------------------------------------------------------- 5 (cold)
        log("5. starting prefect server (cold: new SQLite DB + migrations)")
        cold = [server.start()]
        log(f"   healthy after {cold[0]:.2f}s")

        # ---------------------------------------------------------------- warm-up
        run_no_hb()  # first call: client setup, flow registration, events websocket
        attach_retry_counter()

        # ---------------------------------------------------------------- 1
        log(f"1. in-process empty flow, default heartbeat ({PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value()} s), n={N}")
        hb0, snap = hb_calls["n"], retry_counter.snapshot()
        t1, states = [], []
        for _ in range(N):
            t0 = time.perf_counter()
            st = run_default()
            t1.append(time.perf_counter() - t0)
            states.append(st.type.value)
        OUT["1_inprocess_default_hb"] = stats(t1)
        OUT["1_heartbeat_emits"] = hb_calls["n"] - hb0
        OUT["1_states"] = {s: states.count(s) for s in set(states)}
        OUT["1_client_retries"] = retries_since(snap)
        log(f"   {fmt(OUT['1_inprocess_default_hb'])}; heartbeats emitted: {OUT['1_heartbeat_emits']}; "
            f"client retries {OUT['1_client_retries']}")

        # ---------------------------------------------------------------- 2
        log(f"2. in-process empty flow, heartbeat disabled, n={N}")
        hb0, snap = hb_calls["n"], retry_counter.snapshot()
        t2, states = [], []
        for _ in range(N):
            t0 = time.perf_counter()
            st = run_no_hb()
            t2.append(time.perf_counter() - t0)
            states.append(st.type.value)
        OUT["2_inprocess_no_hb"] = stats(t2)
        OUT["2_heartbeat_emits"] = hb_calls["n"] - hb0
        OUT["2_states"] = {s: states.count(s) for s in set(states)}
        OUT["2_client_retries"] = retries_since(snap)
        log(f"   {fmt(OUT['2_inprocess_no_hb'])}; heartbeats emitted: {OUT['2_heartbeat_emits']}; "
            f"client retries {OUT['2_client_retries']}")

        # ---------------------------------------------------------------- 3
        log(f"3. submit from request thread to ThreadPoolExecutor(2), n={N} per variant")
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="flow-worker") as ex:
            for label, fn in (("no_hb", run_no_hb), ("default_hb", run_default)):
                n_here = N if label == "no_hb" else max(5, N // 2)
                sub, done, states = [], [], []
                hb0, snap = hb_calls["n"], retry_counter.snapshot()
                for _ in range(n_here):
                    t0 = time.perf_counter()
                    fut = ex.submit(fn)
                    sub.append(time.perf_counter() - t0)
                    st = fut.result(timeout=120)
                    done.append(time.perf_counter() - t0)
                    states.append(st.type.value)
                OUT[f"3_{label}_submit"] = stats(sub)
                OUT[f"3_{label}_done"] = stats(done)
                OUT[f"3_{label}_heartbeat_emits"] = hb_calls["n"] - hb0
                OUT[f"3_{label}_states"] = {s: states.count(s) for s in set(states)}
                OUT[f"3_{label}_client_retries"] = retries_since(snap)
                log(f"   [{label}] submit(): {fmt(OUT[f'3_{label}_submit'], 'ms', 1000)}")
                log(f"   [{label}] submit->Completed: {fmt(OUT[f'3_{label}_done'])}; heartbeats: {OUT[f'3_{label}_heartbeat_emits']}; "
                    f"client retries {OUT[f'3_{label}_client_retries']}")

            # does temporary_settings in the submitting thread reach the worker thread?
            hb0 = hb_calls["n"]
            with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                ex.submit(run_default).result(timeout=60)
            OUT["3_settings_ctx_propagates_to_pool"] = (hb_calls["n"] - hb0) == 0
            log(f"   temporary_settings in submitting thread reaches pool thread: {OUT['3_settings_ctx_propagates_to_pool']}")

            # retries in a worker thread
            log("   retries check: an ERROR traceback from 'first attempt fails on purpose' is expected")
            st = ex.submit(run_no_hb, flaky_flow).result(timeout=60)
            with get_client(sync_client=True) as c:
                fr = c.read_flow_run(st.state_details.flow_run_id)
            OUT["retries_check"] = {"final_state": st.type.value, "run_count": fr.run_count,
                                    "attempts_in_process": _FLAKY_CALLS["n"]}
            log(f"   retries check (flaky flow, retries=2): {OUT['retries_check']}")

        # ---------------------------------------------------------------- 6
        for label, fn, threads in (("empty_2thr", empty_flow, 2), ("empty_4thr", empty_flow, 4),
                                   ("5tasks_4thr", five_task_flow, 4)):
            log(f"6. concurrency: 20 x {fn.name} on {threads} threads (heartbeat off)")
            off = server.log_size()
            codes0, exc0 = retry_counter.snapshot()
            fails, states, durs = 0, [], []

            def one(fn=fn):
                t0 = time.perf_counter()
                st = run_no_hb(fn)
                return st, time.perf_counter() - t0

            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=threads) as ex:
                futs = [ex.submit(one) for _ in range(20)]
                for f in futs:
                    try:
                        st, d = f.result(timeout=180)
                        states.append(st.type.value)
                        durs.append(d)
                    except Exception as e:  # noqa: BLE001
                        fails += 1
                        sys.stderr.write(f"   flow raised: {e!r}\n")
            wall = time.perf_counter() - t0
            codes1, exc1 = retry_counter.snapshot()
            slog = server.log_since(off)
            res = {
                "wall_s": round(wall, 2),
                "per_flow": stats(durs),
                "exceptions": fails,
                "states": {s: states.count(s) for s in set(states)},
                "client_retries_by_status": {k: codes1.get(k, 0) - codes0.get(k, 0) for k in codes1 if codes1.get(k, 0) - codes0.get(k, 0)},
                "client_retried_exceptions": exc1 - exc0,
                "server_503_logged": slog.count("Encountered retryable exception in request"),
                "server_503_database_locked_by_stmt": locked_by_stmt(slog),
            }
            OUT[f"6_{label}"] = res
            log(f"   wall {res['wall_s']}s, per-flow {fmt(res['per_flow'])}")
            log(f"   exceptions={fails} states={res['states']} client 429/502/503 retries={res['client_retries_by_status']} "
                f"retried exc={res['client_retried_exceptions']} server 503s logged={res['server_503_logged']} "
                f"'database is locked' by statement={res['server_503_database_locked_by_stmt']}")

        # start the two serve() processes only now, so phases 1-3 and 6 are not disturbed
        serve_logs = {}
        for name, poll in (("poll10", None), ("poll1", "1")):
            env = os.environ.copy()
            if poll:
                env["PREFECT_RUNNER_POLL_FREQUENCY"] = poll
            lp = Path(home) / f"serve-{name}.log"
            serve_logs[name] = lp
            children.append(subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--child", "serve", name],
                stdout=open(lp, "wb"), stderr=subprocess.STDOUT, env=env,
                cwd=os.path.dirname(os.path.abspath(__file__)), start_new_session=True,
            ))
            PROCS.append(children[-1])

        # ---------------------------------------------------------------- 4
        with get_client(sync_client=True) as c:
            deadline = time.time() + 90
            for name in ("poll10", "poll1"):
                while True:
                    try:
                        c.read_deployment_by_name(f"bench-empty/{name}")
                        break
                    except Exception:  # noqa: BLE001
                        if time.time() > deadline:
                            raise RuntimeError(f"serve child {name} did not register; see {serve_logs[name]}")
                        time.sleep(0.2)

            def wait_runs(ids: list, t_sub: dict, timeout: float = 120) -> dict:
                """poll the API every 0.1 s; return per-id times of first non-SCHEDULED and final state"""
                seen: dict = {i: {} for i in ids}
                end = time.time() + timeout
                while time.time() < end:
                    now = time.perf_counter()
                    runs = c.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
                    for fr in runs:
                        s = seen[fr.id]
                        if fr.state.type.value not in ("SCHEDULED",) and "picked" not in s:
                            s["picked"] = now - t_sub[fr.id]
                        if fr.state.is_final() and "done" not in s:
                            s["done"] = now - t_sub[fr.id]
                            s["state"] = fr.state.type.value
                    if all("done" in s for s in seen.values()):
                        break
                    time.sleep(0.1)
                return seen

            # warm-up run on each runner (first run also loads the entrypoint)
            for name in ("poll10", "poll1"):
                fr = run_deployment(f"bench-empty/{name}", timeout=0, as_subflow=False)
                wait_runs([fr.id], {fr.id: time.perf_counter()}, timeout=60)

            # poll 1 s: sequential runs, random phase
            # keep inside the time budget: reserve ~80 s for >=3 poll-10 runs, restarts, telemetry
            remaining = budget - (time.perf_counter() - t_start) - 80
            n_poll1 = max(4, min(N, int(remaining / 4.5)))
            log(f"4. run_deployment(timeout=0) -> flow.serve() child, PREFECT_RUNNER_POLL_FREQUENCY=1, sequential n={n_poll1}")
            call, picked, done, states = [], [], [], []
            for _ in range(n_poll1):
                time.sleep(random.uniform(0, 1.0))
                t0 = time.perf_counter()
                fr = run_deployment("bench-empty/poll1", timeout=0, as_subflow=False)
                call.append(time.perf_counter() - t0)
                r = wait_runs([fr.id], {fr.id: t0})[fr.id]
                picked.append(r.get("picked", float("nan")))
                done.append(r.get("done", float("nan")))
                states.append(r.get("state", "TIMEOUT"))
            OUT["4_poll1_call"] = stats(call)
            OUT["4_poll1_pickup"] = stats(picked)
            OUT["4_poll1_done"] = stats(done)
            OUT["4_poll1_states"] = {s: states.count(s) for s in set(states)}
            log(f"   run_deployment() returns: {fmt(OUT['4_poll1_call'], 'ms', 1000)}")
            log(f"   call->picked up (Pending): {fmt(OUT['4_poll1_pickup'])}")
            log(f"   call->Completed:           {fmt(OUT['4_poll1_done'])}  states={OUT['4_poll1_states']}")

            # poll 10 s: sequential, each submitted after a random 0-10 s pause so the submit time
            # is uncorrelated with the runner's poll timer (10 s +-30 % jitter); n limited by time budget
            n_poll10 = max(3, min(N_SERVE10, int((budget - (time.perf_counter() - t_start) - 35) / 14)))
            log(f"4. run_deployment(timeout=0) -> flow.serve() child, poll 10 s (default), sequential n={n_poll10}")
            call, picked, done, states = [], [], [], []
            for _ in range(n_poll10):
                time.sleep(random.uniform(0, 10.0))
                t0 = time.perf_counter()
                fr = run_deployment("bench-empty/poll10", timeout=0, as_subflow=False)
                call.append(time.perf_counter() - t0)
                r = wait_runs([fr.id], {fr.id: t0})[fr.id]
                picked.append(r.get("picked", float("nan")))
                done.append(r.get("done", float("nan")))
                states.append(r.get("state", "TIMEOUT"))
            OUT["4_poll10_call"] = stats(call)
            OUT["4_poll10_pickup"] = stats(picked)
            OUT["4_poll10_done"] = stats(done)
            OUT["4_poll10_states"] = {s: states.count(s) for s in set(states)}
            log(f"   call->picked up (Pending): {fmt(OUT['4_poll10_pickup'])}")
            log(f"   call->Completed:           {fmt(OUT['4_poll10_done'])}  states={OUT['4_poll10_states']}")

            # ------------------------------------------------------------ visibility in API / UI
            runs = c.read_flow_runs(limit=200)
            flows = {f.id: f.name for f in c.read_flows(limit=50)}
            vis: dict = {}
            for fr in runs:
                k = f"{flows.get(fr.flow_id, fr.flow_id)}:{fr.state.type.value}"
                vis[k] = vis.get(k, 0) + 1
            OUT["visible_flow_runs"] = dict(sorted(vis.items()))
            log(f"   flow runs visible through the API (what the UI shows): {OUT['visible_flow_runs']}")

        for p in children:
            stop_child(p)
        children.clear()

        # ---------------------------------------------------------------- 5 (warm restarts)
        server.stop()
        n_warm = 2
        log(f"5. restarting server on existing DB x{n_warm} (warm)")
        warm = []
        for _ in range(n_warm):
            server = Server(home, port, server_log)
            warm.append(server.start())
            server.stop()
        OUT["5_server_health_cold"] = stats(cold)
        OUT["5_server_health_warm"] = stats(warm)
        log(f"   cold {fmt(OUT['5_server_health_cold'])}")
        log(f"   warm {fmt(OUT['5_server_health_warm'])}")

        # ---------------------------------------------------------------- telemetry w/o internet
        log("telemetry: server analytics ON, DO_NOT_TRACK unset, HTTPS_PROXY -> closed loopback port")
        dead = f"http://127.0.0.1:{free_port()}"
        # loopback bypasses the proxy (API + events websocket); anything https elsewhere hits a closed port
        tel_env = {"PREFECT_SERVER_ANALYTICS_ENABLED": "true", "HTTPS_PROXY": dead, "https_proxy": dead,
                   "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        server = Server(home, port, server_log, extra_env=tel_env)
        server.env.pop("DO_NOT_TRACK", None)
        off = server.log_size()
        server.start()
        cenv = os.environ.copy()
        cenv.pop("DO_NOT_TRACK", None)
        cenv.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)
        cenv.update(tel_env)
        cenv.pop("PREFECT_SERVER_ANALYTICS_ENABLED")
        t0 = time.perf_counter()
        cp = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "flow"],
                            capture_output=True, text=True, env=cenv, timeout=60)
        child_secs = time.perf_counter() - t0
        time.sleep(max(0.0, 8 - child_secs))
        slog = server.log_since(off)
        server.stop()
        child_out = cp.stdout + cp.stderr
        OUT["telemetry"] = {
            "server_log_failed_to_send_telemetry": slog.count("Failed to send telemetry"),
            "server_log_excerpt": [ln.strip()[:200] for ln in slog.splitlines() if "telemetry" in ln.lower()][:2],
            "client_rc": cp.returncode,
            "client_seconds": round(child_secs, 2),
            "client_output_mentions_telemetry_or_amplitude": bool(re.search(r"telemetry|amplitude", child_out, re.I)),
            "client_output_error_lines": [ln[:200] for ln in child_out.splitlines()
                                          if re.search(r"error|traceback|exception", ln, re.I)][:5],
        }
        log(f"   {json.dumps(OUT['telemetry'], indent=None)}")
    finally:
        for p in children:
            stop_child(p)
        try:
            server.stop()
        except Exception:  # noqa: BLE001
            pass
        fe.BaseFlowRunEngine._emit_flow_run_heartbeat = _orig_emit

    wd.cancel()
    OUT["total_runtime_s"] = round(time.perf_counter() - t_start, 1)
    res_path = Path(home) / "results.json"
    res_path.write_text(json.dumps(OUT, indent=2, default=str))
    print("\nRESULTS_JSON_BEGIN")
    print(json.dumps(OUT, indent=2, default=str))
    print("RESULTS_JSON_END")
    log(f"total runtime {OUT['total_runtime_s']} s")
    if not os.environ.get("BENCH_KEEP_HOME"):
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if CHILD:
        _child_main()
    else:
        sys.exit(main())
