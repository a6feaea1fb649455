"""``make run`` (``make serve``): Django's development server and the
django-q2 worker together, stopped together.

Usage: ``python site/run.py HOST:PORT``. Each process starts in a session of
its own, so a Ctrl-C or a SIGTERM to the terminal's process group reaches
this launcher only; it then stops each child with exactly one signal (the
worker's sentinel, killed by a group-wide SIGTERM while it waits, would leave
the cluster hanging at "stopping"), and kills what is left after
:data:`STOP_TIMEOUT` seconds. If one process ends by itself, the other is
stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

MANAGE = Path(__file__).resolve().parent / "manage.py"
#: Seconds a process gets to stop before it and its children are killed.
STOP_TIMEOUT = 7.0
POLL = 0.2


def start(*args: str) -> subprocess.Popen:
    """``manage.py <args>`` in a new session (its own process group)."""
    return subprocess.Popen(
        [sys.executable, str(MANAGE), *args], start_new_session=True
    )


def signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop(worker: subprocess.Popen, server: subprocess.Popen) -> None:
    """One SIGTERM to the worker's main process (it stops its own children),
    SIGINT to the server's group; after the timeout, SIGKILL to both groups."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    signal_group(server, signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if worker.poll() is not None and server.poll() is not None:
            break
        time.sleep(POLL)
    for process in (worker, server):
        # Children may outlive their parent (a worker's pusher, say).
        signal_group(process, signal.SIGKILL)
        process.wait()


def main(address: str) -> int:
    requested: list[int] = []

    def on_signal(signum, frame):
        requested.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    worker = start("qcluster")
    server = start("runserver", address)
    while not requested and worker.poll() is None and server.poll() is None:
        time.sleep(POLL)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    stop(worker, server)
    if requested:
        return 0
    return server.returncode or worker.returncode or 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python site/run.py HOST:PORT")
    sys.exit(main(sys.argv[1]))
