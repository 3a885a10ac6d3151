"""Response times of the applicant and staff list pages with 10,000 applications in the embedded
database (SQLite), measured through a real HTTP server (waitress on loopback).

    .venv/bin/python bench/list_pages.py [--apps 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=200)
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="grants-bench-"))
    os.environ.update({"GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "bench"})
    from waitress.server import create_server

    from grants.config import load_config
    from grants.db import Database
    from grants.migrate import upgrade
    from grants.web.app import create_app
    from tests.factories import build_world
    from tests.factories_bulk import many_applications

    config = load_config()
    upgrade(config.database_url)
    db = Database(config.database_url)
    world = build_world(db)
    many_applications(db, world.program_id, [world.org_ids["a"], world.org_ids["b"]], a.apps)
    app = create_app(config, db)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"

    def session(email):
        jar = http.cookiejar.CookieJar()
        op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = op.open(base + "/anmelden").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        op.open(base + "/anmelden", urllib.parse.urlencode(
            {"csrf_token": token, "email": email, "password": "correct horse battery"}).encode())
        return op

    results = {}
    for label, email, path in [("applicant list (/antrag/)", "applicant_a@test.example", "/antrag/"),
                               ("staff list (/fachdienst/)", "staff@test.example", "/fachdienst/"),
                               ("staff list, filtered (/fachdienst/?state=paid)", "staff@test.example", "/fachdienst/?state=paid"),
                               ("staff list, page 100", "staff@test.example", "/fachdienst/?page=100")]:
        op = session(email)
        for _ in range(10):
            op.open(base + path).read()
        times = []
        for _ in range(a.requests):
            t0 = time.perf_counter()
            op.open(base + path).read()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        results[label] = {"median_ms": round(statistics.median(times), 1),
                          "p95_ms": round(times[int(len(times) * 0.95) - 1], 1)}
    server.close()
    print(json.dumps({"applications": a.apps, "requests_each": a.requests, "results": results}, indent=2))


if __name__ == "__main__":
    main()
