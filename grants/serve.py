"""`grants serve`: the web application (waitress) and the workflow engine in one process.

The engine is the embedded default (a local Prefect server, flows run here) unless PREFECT_API_URL
names a Prefect server: then it only hands jobs to that server's workers (grants.engine.scaleout)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING

from grants.config import Config
from grants.db import Database

if TYPE_CHECKING:            # imported where chosen below: Prefect must not load before its environment is set
    from grants.engine.embedded import EmbeddedEngine
    from grants.engine.scaleout import ScaleOutEngine

log = logging.getLogger("grants.serve")


def run(config: Config, db: Database, *, host: str, port: int, threads: int = 8) -> None:
    from waitress import create_server

    from grants import logs, runtime
    from grants.web.app import create_app

    logs.configure()
    runtime.install(config, db)
    engine: EmbeddedEngine | ScaleOutEngine
    if config.embedded_engine:
        from grants.engine.prefect_server import use_environment

        use_environment(config)          # before Prefect is imported
        from grants.engine.embedded import EmbeddedEngine

        engine = EmbeddedEngine(config, db)
    else:
        from grants.engine.prefect_server import use_client_environment

        use_client_environment(config)   # before Prefect is imported
        from grants.engine.scaleout import ScaleOutEngine

        engine = ScaleOutEngine(config, db)
    app = create_app(config, db, engine)
    app.extensions["grants"]["ready"] = False
    server = create_server(app, host=host, port=port, threads=threads, ident="grants")

    def start_engine():
        try:
            engine.start()
            app.extensions["grants"]["ready"] = True
            log.info("workflow engine ready; Prefect UI at %s", engine.ui_url)
        except Exception:
            log.exception("workflow engine failed to start")

    # The web answers at once (/healthz says "starting"); flows queue in the database meanwhile.
    threading.Thread(target=start_engine, name="engine-start", daemon=True).start()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    print(f"Serving on http://{host}:{port}  (Ctrl-C stops everything)", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        log.info("stopping")
        server.close()
        engine.stop()
        db.dispose()
