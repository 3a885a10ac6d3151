"""`grants worker`: the flow runs of the grants deployments, on any machine (scale-out).

Besides its flow threads a worker runs a dispatcher and the scheduler (grants.engine.scaleout), so
a production set-up is the web application under any WSGI server plus workers; `--no-dispatch`
leaves that to `grants serve`. SIGTERM or Ctrl-C: no new runs, running ones get `grace` seconds
to finish, the rest go back to the queue and run again elsewhere.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from grants.config import Config
from grants.db import Database

log = logging.getLogger("grants.work")


def run(config: Config, db: Database, *, threads: int = 2, grace: float = 30, dispatch: bool = True) -> int:
    from grants.engine.prefect_server import use_client_environment

    use_client_environment(config)   # before Prefect is imported
    from grants import logs, runtime

    logs.configure()

    from grants.engine.scaleout import ScaleOutEngine, import_prefect
    from grants.engine.worker import Worker

    import_prefect()
    runtime.install(config, db)
    stop = threading.Event()

    def on_signal(signum, frame):
        log.info("signal %s: stopping after the running flows (at most %s s)", signum, grace)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    worker = Worker(db, instance=config.instance, threads=threads, poll_seconds=config.poll_seconds)
    engine = ScaleOutEngine(config, db) if dispatch else None
    worker.start()
    if engine is not None:
        engine.start()
    print(f"Worker {worker.name}: {threads} threads for {config.prefect_api_url}"
          f"{' (also dispatching)' if engine else ''}  (SIGTERM or Ctrl-C stops it)", flush=True)
    while not stop.wait(1):
        pass
    if engine is not None:
        engine.stop()
    left = worker.stop(grace)
    db.dispose()
    if left:
        log.warning("%d run(s) did not finish in %s s; their jobs are queued again", left, grace)
        logging.shutdown()
        os._exit(0)  # their threads cannot be stopped; the process can
    log.info("stopped")
    return 0
