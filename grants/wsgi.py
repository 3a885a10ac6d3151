"""The web application for a production WSGI server: `gunicorn 'grants.wsgi:app'`.

Pages only: in this set-up the flows run on `grants worker` processes (scale-out), which also hand
the queued jobs to Prefect. Without PREFECT_API_URL nothing would run them, so this refuses to
start then; on one machine without Prefect's own server, `grants serve` is the way.

It expects one reverse proxy in front (README "Production") and takes the client's address and
scheme from its X-Forwarded-* headers: login throttling counts failures per address, and behind a
proxy every request would otherwise come from the proxy. Bind gunicorn where only the proxy reaches.
"""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

from grants.config import load_config
from grants.db import Database
from grants.web.app import create_app

_config = load_config()
if _config.embedded_engine:
    raise RuntimeError("grants.wsgi serves the pages only: set PREFECT_API_URL and run `grants worker`, "
                       "or use `grants serve`, which runs the workflow engine itself")
app = create_app(_config, Database(_config.database_url))
# Flask's documented way to add WSGI middleware; mypy takes the method for one that may not be replaced
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
