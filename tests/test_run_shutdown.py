"""``make run`` stops as a whole: a SIGTERM to its process group (what a
terminal's Ctrl-C or a supervisor sends) ends the server and every process
of the django-q2 worker within seconds, and the server builds mail links
from the address it serves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: Seconds everything may take to end after the SIGTERM.
STOP_LIMIT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(var_dir: Path) -> dict[str, str]:
    """The environment of a fresh checkout: SQLite in ``var_dir``, the
    development settings, one worker."""
    dropped = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(VIVADESK_VAR_DIR=str(var_dir), Q_WORKERS="1")
    env.pop("VIVADESK_BASE_URL", None)
    env.pop("MAKEFLAGS", None)
    return env


def manage(env, *args: str) -> None:
    subprocess.run(
        [sys.executable, "site/manage.py", *args],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def processes() -> dict[int, tuple[int, str, str]]:
    """``{pid: (parent pid, state, command line)}`` of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        found[int(entry.name)] = (int(fields[1]), fields[0], cmdline)
    return found


def descendants(root: int) -> dict[int, str]:
    """The processes below ``root`` (in any session), with their commands."""
    table = processes()
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, (parent, _state, _cmd) in table.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid: table[pid][2] for pid in tree - {root} if pid in table}


def alive(pids) -> list[int]:
    table = processes()
    return [pid for pid in pids if pid in table and table[pid][1] != "Z"]


def serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/admin/login/", timeout=2
        ) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def wait_until_running(make, port: int, log: Path) -> dict[int, str]:
    """Until the site answers and the worker has its sentinel, monitor,
    pusher and worker; the processes then."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert make.poll() is None, log.read_text()
        tree = descendants(make.pid)
        cluster = [cmd for cmd in tree.values() if "qcluster" in cmd]
        if len(cluster) >= 5 and serves(port):
            time.sleep(1.5)  # the guard loop is waiting on its stop event
            return descendants(make.pid)
        time.sleep(0.5)
    pytest.fail("make serve did not come up:\n" + log.read_text())


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if item)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_sigterm_to_the_group_ends_server_and_worker(tmp_path):
    env = site_env(tmp_path / "var")
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("w") as out:
        make = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "serve",
                f"PORT={port}",
                "HOST=127.0.0.1",
                f"PY={sys.executable}",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    tree = {}
    try:
        tree = wait_until_running(make, port, log)
        server = next(
            pid
            for pid, cmd in tree.items()
            if "python" in cmd.split()[0] and "runserver" in cmd
        )
        assert environ_of(server)["VIVADESK_BASE_URL"] == f"http://127.0.0.1:{port}"

        os.killpg(make.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_LIMIT
        while time.monotonic() < deadline:
            make.poll()
            if not alive([make.pid, *tree]):
                break
            time.sleep(0.2)
        left = {pid: tree.get(pid, "make") for pid in alive([make.pid, *tree])}
        assert not left, f"still running {STOP_LIMIT}s after SIGTERM: {left}"
    finally:
        for pid in alive([make.pid, *tree]):
            os.kill(pid, signal.SIGKILL)
        make.wait(timeout=10)
