"""One log format for `grants serve` and `grants worker`, without the libraries' chatter."""

import logging


def configure() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)       # one line per request to Prefect otherwise
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # seven progress lines per letter otherwise
