"""A private Dovecot IMAP server for tests (Debian's ``dovecot-imapd``).

Started from its own config in a temp folder on a free high port, as
DESIGN.md "Real servers for tests" describes; stopped by the pid in
``base_dir/master.pid``. Tests using the fixture are skipped with a clear
reason when Dovecot is not installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
#: Debian's dovecot-pop3d; POP3 tests are skipped without it.
POP3_BINARY = "/usr/lib/dovecot/pop3"
POP3_SERVICE = """\
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
  chroot =
}}
"""

CONFIG = """\
base_dir = {root}/run
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
state_dir = {root}/state
listen = 127.0.0.1
protocols = {protocols}
first_valid_uid = {uid}
first_valid_gid = {gid}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
default_internal_user = {internal}
default_login_user = {internal}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{pop3_service}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@dataclass
class Imap:
    host: str
    port: int
    pop3_port: int | None
    user: str
    password: str
    root: Path

    def pop3_uri(self) -> str:
        user = self.user.replace("@", "%40")
        return f"pop3://{user}:{self.password}@{self.host}:{self.pop3_port}"

    def uri(self, archive: str = "") -> str:
        query = f"?archive={archive}" if archive else ""
        user = self.user.replace("@", "%40")
        return f"imap://{user}:{self.password}@{self.host}:{self.port}{query}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Dovecot did not listen on port {port}")


@pytest.fixture
def dovecot():
    if not os.path.exists(DOVECOT):
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("the private Dovecot instance needs root to switch to `mail`")
    mail_user = pwd.getpwnam("mail")
    internal = "dovenull" if _user_exists("dovenull") else "mail"
    # Not under pytest's 0700 temp root: Dovecot's unprivileged auth process
    # must be able to read the passwd file.
    root = Path(tempfile.mkdtemp(prefix="vivadesk-dovecot-"))
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    os.chown(root / "home", mail_user.pw_uid, mail_user.pw_gid)
    port = _free_port()
    pop3_port = _free_port() if os.path.exists(POP3_BINARY) else None
    pop3_service = POP3_SERVICE.format(port=pop3_port) if pop3_port else ""
    user, password = "helpdesk@viva.de", "secret"
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
            internal=internal,
            protocols="imap pop3" if pop3_port else "imap",
            pop3_service=pop3_service,
        )
    )
    os.chmod(root, 0o755)
    subprocess.run([DOVECOT, "-c", str(config)], check=True, timeout=20)
    try:
        _wait_for(port)
        yield Imap("127.0.0.1", port, pop3_port, user, password, root)
    finally:
        pid_file = root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        if not os.environ.get("VIVADESK_KEEP_DOVECOT"):
            shutil.rmtree(root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
