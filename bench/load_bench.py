"""Load test of the applicant and staff pages with 10,000 applications in PostgreSQL,
each next to the same template rendered from static data by the same server.

    apt-get install wrk      # Debian's package: the load generator
    .venv/bin/python bench/load_bench.py [--server waitress|gunicorn|both] [--rounds 3]
                                         [--duration 10] [--connections 8] [--apps 10000]

A private PostgreSQL cluster (Debian's package, initdb on a random port, run as the postgres user
when started as root) gets the migrations, the test world, 10,000 applications (half of them the
applicant's organisation's) and one case that went the whole way to its letter (history,
comments), which is the case page measured. The real application is served on loopback in a
child process, either as `grants serve` serves it (waitress, 8 threads; the workflow engine is
left out: it is not web work) or under gunicorn (gthread, 2 workers x 4 threads) as the
`production` extra pins it. wrk (one thread, keep-alive) drives each page for --duration seconds
after a warm-up (16 keep-alive connections; under gunicorn each worker takes 8 of them).

The baseline of each page is a route added here, never in the product: at start each server
process requests the real page once, keeps the template context the view produced (the rows,
the case, the forms) and the logged-in user, and the route renders that same template with that
same context on every request: same app, hooks, layout, session cookie and server settings, but
no database, no authentication and no view code. The ratio is the page's throughput over its
baseline's (goal: at least 0.5). Each page runs right after its baseline, so that load from
elsewhere on the machine hits both alike; --rounds repeats the whole set and the medians are
reported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery"
STATIC_PREFIX = "/_bench/static/"

WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local nonok = 0
  for _, t in ipairs(threads) do nonok = nonok + t:get("bad") end
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, '
    .. '"p99_us": %d, "mean_us": %.1f, "errors": %d, "non200": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, e.connect + e.read + e.write + e.timeout + e.status, nonok))
end
"""


# ---------------------------------------------------------------------------------------------
# server side: runs in the child process (waitress) or in each gunicorn worker

def server_app():
    """The product app plus the static baseline routes (gunicorn calls this in each worker)."""
    from grants.web.app import create_app

    app = create_app()
    add_static_pages(app, json.loads(os.environ["BENCH_PAGES"]))
    return app


def add_static_pages(app, pages: list[dict]) -> None:
    from flask import before_render_template, g, render_template
    from sqlalchemy import select

    from grants.models import User
    from grants.web.access import public
    from grants.web.util import db as db_of_app

    statics = {}

    # registered before the capture: Flask takes no new routes after its first request
    @public
    def static_page(name):
        template, context, user, actor = statics[name]
        g.user, g.actor = user, actor
        return render_template(template, **context)

    app.add_url_rule(STATIC_PREFIX + "<name>", "bench_static", static_page)

    with app.test_request_context():
        g.user = None
        injected = {"g", "request", "session"}
        for proc in app.template_context_processors[None]:
            injected |= set(proc())

    for page in pages:
        captured = []

        def keep(sender, template, context, **extra):
            captured.append((template.name, {k: v for k, v in context.items() if k not in injected},
                             g.get("user"), g.get("actor")))

        client = app.test_client()
        with app.app_context():
            with db_of_app().session() as s:
                epoch = s.scalar(select(User.session_epoch).where(User.id == page["user_id"]))
        with client.session_transaction() as sess:
            sess.update(uid=page["user_id"], epoch=epoch, lang="de")
        before_render_template.connect(keep, app)
        try:
            r = client.get(page["path"])
        finally:
            before_render_template.disconnect(keep, app)
        if r.status_code != 200 or len(captured) != 1:
            raise RuntimeError(f"capturing {page['path']}: status {r.status_code}, {len(captured)} renders")
        statics[page["name"]] = captured[0]


def serve_waitress(port: int) -> None:
    import logging

    from waitress import create_server

    # "Task queue depth" warnings whenever all 8 threads are busy: that is the load test itself
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # as grants.serve.run builds it
    create_server(server_app(), host="127.0.0.1", port=port, threads=8, ident="grants").run()


# ---------------------------------------------------------------------------------------------
# driver side

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A private cluster in a temporary directory, stopped and removed at the end."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parent.parent.name))
        if not bins:
            sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bins[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="grants-loadpg-"))
        self.run_as = []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.data = self.dir / "data"

    def _pg(self, tool, *args):
        subprocess.run([*self.run_as, str(self.bin / tool), *args], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "grants", "-E", "UTF8", "--locale=C.UTF-8")
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "grants", "grants")
        return f"postgresql+psycopg://grants@127.0.0.1:{self.port}/grants"

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        try:
            self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def load_data(url: str, apps: int) -> dict:
    from sqlalchemy import text

    from grants.db import Database
    from grants.migrate import upgrade
    from grants.models import Comment
    from tests.factories import build_world, granted_case
    from tests.factories_bulk import many_applications

    upgrade(url)
    db = Database(url)
    world = build_world(db)
    many_applications(db, world.program_id, [world.org_ids["a"], world.org_ids["b"]], apps)
    # The bulk rows are near empty; real ones carry the form's texts (limits 5,000/3,000/2,000/2,000
    # characters) and the declarations, and the list queries read whole rows.
    with db.session() as s:
        s.execute(text(
            "UPDATE application SET description = repeat('Nachbarschaftscafé mit Sprachtandem. ', 40), "
            "aims = repeat('Begegnung und Kennenlernen. ', 20), target_groups = repeat('Familien, Neuzugezogene. ', 16), "
            "partners = repeat('Quartiersmanagement Schinkel. ', 10), participants_expected = 40, "
            "project_start = DATE '2026-03-01', project_end = DATE '2026-09-30', "
            "answers = CAST(:answers AS JSON)"),
            {"answers": json.dumps({"decl_not_started": True, "decl_other_funders": True, "decl_privacy": True})})
    case_id = granted_case(db, world)
    with db.session() as s:
        for i, visible in enumerate((True, False, True)):
            s.add(Comment(application_id=case_id, author_id=world.users["staff"], visible_to_applicant=visible,
                          body=f"Nachricht {i}: bitte den Kostenplan erläutern."))
    with db.engine.connect() as c:
        # what autovacuum does soon after a bulk insert; the state counts then read the index only
        c.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        n = c.scalar(text("SELECT count(*) FROM application"))
    db.dispose()
    return {"world": world, "case_id": case_id, "applications": n}


def cpu_ticks(root_pid: int) -> dict[int, int]:
    """utime + stime by pid of a process and its direct children (gunicorn workers, PostgreSQL
    backends), so that a child that comes or goes between two readings does not count."""
    ticks = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d.name) == root_pid or int(fields[1]) == root_pid:
            ticks[int(d.name)] = int(fields[11]) + int(fields[12])
    return ticks


def cpu_used(before: dict[int, int], after: dict[int, int]) -> float:
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / os.sysconf("SC_CLK_TCK")


def login(base: str, email: str) -> str:
    """The session cookie of a logged-in user, through the real login form."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = op.open(base + "/anmelden").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    op.open(base + "/anmelden", urllib.parse.urlencode(
        {"csrf_token": token, "email": email, "password": PASSWORD}).encode()).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def anonymous_cookie(base: str, path: str) -> str:
    """The cookie a baseline page sets once (its CSRF token), so later requests reuse it as a
    logged-in browser does."""
    with urllib.request.urlopen(base + path) as r:
        return "; ".join(h.split(";", 1)[0] for h in r.headers.get_all("Set-Cookie") or [])


def fetch(base: str, path: str, cookie: str) -> tuple[int, bytes]:
    req = urllib.request.Request(base + path, headers={"Cookie": cookie})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def wrk(base: str, path: str, cookie: str, *, duration: int, connections: int, script: Path) -> dict:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(script),
           "-H", f"Cookie: {cookie}", base + path]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    out = p.stdout.read()
    err = p.stderr.read()
    m = re.search(r"^WRKJSON (.*)$", out, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed: {out}\n{err}")
    r = json.loads(m.group(1))
    seconds = r["duration_us"] / 1e6
    return {"rps": r["requests"] / seconds, "p50_ms": r["p50_us"] / 1000, "p95_ms": r["p95_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "requests": r["requests"], "errors": r["errors"],
            "non200": r["non200"], "seconds": seconds,
            "wrk_cpu": (usage.ru_utime + usage.ru_stime) / seconds}


def start_server(kind: str, port: int, env: dict, connections: int) -> subprocess.Popen:
    if kind == "waitress":
        cmd = [sys.executable, __file__, "--serve-waitress", str(port)]
    else:
        # --worker-connections: each worker takes half of wrk's keep-alive connections. Without it
        # whichever worker woke first often took all of them, and a run measured one core or two
        # by chance (the page and its baseline differently): throughput ratios of 0.4 to 1.8.
        # gthread keeps (worker connections - threads) idle connections alive: at least one.
        per_worker = connections // 2
        if per_worker <= 4:
            raise SystemExit("gunicorn (2 workers x 4 threads) needs --connections 10 or more")
        cmd = [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread", "--threads", "4",
               "--worker-connections", str(per_worker), "--bind", f"127.0.0.1:{port}", "--pythonpath", f"{ROOT / 'bench'},{ROOT}", "--log-level", "warning",
               "load_bench:server_app()"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                pass
            if kind == "gunicorn":
                time.sleep(3)  # both workers up, not only the first
            return proc
        except urllib.error.HTTPError:
            return proc  # answers (503 "starting" is still an answer)
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"{kind} did not answer")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=10_000)
    ap.add_argument("--server", choices=["waitress", "gunicorn", "both"], default="both")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds of measurement per page and round")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each measurement")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--serve-waitress", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve_waitress:
        serve_waitress(a.serve_waitress)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    home = Path(tempfile.mkdtemp(prefix="grants-load-"))
    pg = Postgres()
    url = pg.start()
    servers = []
    try:
        env = {**os.environ, "GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "bench", "GRANTS_DATABASE_URL": url,
               "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        env.pop("GRANTS_BASE_URL", None)
        os.environ.update({k: env[k] for k in ("GRANTS_HOME", "GRANTS_SECRET_KEY", "GRANTS_DATABASE_URL")})
        t0 = time.perf_counter()
        data = load_data(url, a.apps)
        world, case_id = data["world"], data["case_id"]
        print(f"loaded {data['applications']} applications in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

        pages = [  # name, label, who, path
            ("applicant_list", "applicant list `/antrag/`", "applicant_a", "/antrag/"),
            ("applicant_case", "applicant case page `/antrag/<id>`", "applicant_a", f"/antrag/{case_id}"),
            ("staff_list", "staff list `/fachdienst/`", "staff", "/fachdienst/"),
            ("staff_filtered", "staff list filtered `/fachdienst/?state=paid`", "staff", "/fachdienst/?state=paid"),
            ("staff_case", "staff case page `/fachdienst/antrag/<id>`", "staff", f"/fachdienst/antrag/{case_id}"),
        ]
        env["BENCH_PAGES"] = json.dumps([{"name": n, "path": p, "user_id": world.users[who]}
                                         for n, _, who, p in pages])
        script = home / "report.lua"
        script.write_text(WRK_SCRIPT)
        kinds = ["waitress", "gunicorn"] if a.server == "both" else [a.server]
        report = {"applications": data["applications"], "duration_s": a.duration, "connections": a.connections,
                  "rounds": a.rounds, "cpus": os.cpu_count(), "loadavg_start": loadavg(), "servers": {}}
        for kind in kinds:
            port = free_port()
            proc = start_server(kind, port, env, a.connections)
            servers.append(proc)
            base = f"http://127.0.0.1:{port}"
            cookies = {who: login(base, f"{who}@test.example") for who in ("applicant_a", "staff")}
            targets = []
            for name, label, who, path in pages:
                static_path = STATIC_PREFIX + name
                static_cookie = anonymous_cookie(base, static_path)
                real = fetch(base, path, cookies[who])
                static = fetch(base, static_path, static_cookie)
                if real[0] != 200 or static[0] != 200:
                    raise RuntimeError(f"{path}: {real[0]}, baseline {static[0]}")
                targets.append({"name": name, "label": label, "path": path, "cookie": cookies[who],
                                "static_path": static_path, "static_cookie": static_cookie,
                                "bytes": len(real[1]), "static_bytes": len(static[1])})
            runs = {t["name"]: {"page": [], "static": []} for t in targets}
            for rnd in range(a.rounds):
                for t in targets:
                    for side, path, cookie in (("static", t["static_path"], t["static_cookie"]),
                                               ("page", t["path"], t["cookie"])):
                        wrk(base, path, cookie, duration=a.warmup, connections=a.connections, script=script)
                        cpu0, pg0 = cpu_ticks(proc.pid), cpu_ticks(pg.pid())
                        r = wrk(base, path, cookie, duration=a.duration, connections=a.connections, script=script)
                        r["server_cpu"] = cpu_used(cpu0, cpu_ticks(proc.pid)) / r["seconds"]
                        r["postgres_cpu"] = cpu_used(pg0, cpu_ticks(pg.pid())) / r["seconds"]
                        r["loadavg"] = loadavg()
                        runs[t["name"]][side].append(r)
                        print(f"{kind} round {rnd + 1} {side:6} {path:28} {r['rps']:7.1f} req/s  "
                              f"p50 {r['p50_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms  server {r['server_cpu']:.2f} "
                              f"pg {r['postgres_cpu']:.2f} wrk {r['wrk_cpu']:.2f} cores  load {r['loadavg']}",
                              file=sys.stderr)
                        if r["errors"] or r["non200"]:
                            raise RuntimeError(f"{path}: {r['errors']} errors, {r['non200']} answers not 200")
            summary = []
            for t in targets:
                med = {side: {k: statistics.median(x[k] for x in runs[t["name"]][side])
                              for k in ("rps", "p50_ms", "p95_ms", "server_cpu", "postgres_cpu", "wrk_cpu")}
                       for side in ("page", "static")}
                # CPU per request (server and PostgreSQL): what throughput becomes on a machine
                # of one's own, where the server is bound by its CPU, not by other processes
                cpu_ms = {side: statistics.median((x["server_cpu"] + x["postgres_cpu"]) / x["rps"] * 1000
                                                  for x in runs[t["name"]][side]) for side in ("page", "static")}
                summary.append({"page": t["label"], "bytes": t["bytes"], "static_bytes": t["static_bytes"],
                                **{f"{k}": round(v, 2) for k, v in med["page"].items()},
                                **{f"static_{k}": round(v, 2) for k, v in med["static"].items()},
                                "cpu_ms": round(cpu_ms["page"], 2), "static_cpu_ms": round(cpu_ms["static"], 2),
                                "cpu_ratio": round(cpu_ms["static"] / cpu_ms["page"], 2),
                                "ratio": round(med["page"]["rps"] / med["static"]["rps"], 2),
                                "ratio_each_round": [round(p["rps"] / s["rps"], 2) for p, s in
                                                     zip(runs[t["name"]]["page"], runs[t["name"]]["static"])]})
            report["servers"][kind] = summary
            proc.terminate()
            proc.wait(30)
        report["loadavg_end"] = loadavg()
        print(json.dumps(report, indent=2, ensure_ascii=False))
        for kind, summary in report["servers"].items():
            print(f"\n{kind}: | page | req/s | p50 | p95 | baseline req/s | baseline p50 | baseline p95 | ratio "
                  f"| CPU ms/request | baseline CPU ms/request | CPU ratio |")
            for s in summary:
                print(f"| {s['page']} | {s['rps']:.0f} | {s['p50_ms']:.0f} ms | {s['p95_ms']:.0f} ms | "
                      f"{s['static_rps']:.0f} | {s['static_p50_ms']:.0f} ms | {s['static_p95_ms']:.0f} ms | "
                      f"{s['ratio']:.2f} | {s['cpu_ms']:.1f} | {s['static_cpu_ms']:.1f} | {s['cpu_ratio']:.2f} |")
    finally:
        for proc in servers:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        pg.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
