"""Keeps the embedded Prefect server no longer than the grants process that started it.

`python -m grants.engine.prefect_watch PID COMMAND...` runs COMMAND (`prefect server start ...`)
and ends it as soon as process PID is gone. A `grants serve` that stops normally stops the server
itself; one killed with SIGKILL cannot, and without this the server lived on as an orphan, holding
memory and its port, so that the next start moved to the next port. Linux's parent-death signal
would not do: it fires when the starting *thread* ends, and the engine starts the server from a
thread that ends at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    owner, command = int(argv[0]), argv[1:]
    child = subprocess.Popen(command)

    def forward(signum, frame):
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while child.poll() is None:
        if os.getppid() != owner or not _alive(owner):
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
            break
        time.sleep(0.5)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
