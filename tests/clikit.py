"""Running the command-line tools against a ``LiveApp``: as a script would
(exit code and output) and in a real terminal (a tmux session of its own)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import uuid

from tests.apikit import wait_for
from tests.live import REPO, LiveApp

TERMINAL_ENV = {"COLUMNS", "LINES", "TERM", "TMUX", "TMUX_PANE"}
JOB_LINE = re.compile(r"^Job ([0-9a-f-]{36})$", re.M)


def cli(app: LiveApp, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``manage.py ARGS`` with the app's environment, to its end."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=app.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(app: LiveApp, *args: str) -> subprocess.Popen:
    """``manage.py ARGS`` running in the background (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=app.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def job_id_in(text: str) -> str:
    """The id the download command prints first (``Job <id>``)."""
    found = JOB_LINE.search(text)
    assert found, f"no job id in:\n{text}"
    return found[1]


class Terminal:
    """One command in a tmux session of its own (a real terminal, 150×30):
    ``screen()`` is what it shows, ``press("C-c")`` types, ``exit_code()``
    waits for it to end."""

    def __init__(self, app: LiveApp, *args: str, width: int = 150, height: int = 30) -> None:
        name = uuid.uuid4().hex[:12]
        self.socket = f"mvidarr-test-{name}"
        self.exit_file = app.data_dir / f"exit-{name}"
        script = app.data_dir / f"run-{name}.sh"
        # The terminal's own size and type, not those of whoever runs the tests.
        env = {k: v for k, v in app.env.items() if k.isidentifier() and k not in TERMINAL_ENV}
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        command = shlex.join([sys.executable, "manage.py", *args])
        script.write_text(
            f"{exports}cd {shlex.quote(str(REPO))}\n{command}\n"
            f"echo $? > {shlex.quote(str(self.exit_file))}\nsleep 300\n"
        )
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), "bash", str(script))

    def _tmux(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in TERMINAL_ENV}
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10, env=env
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def wait_for_screen(self, check, timeout: float = 60) -> str:
        """The screen once ``check(screen)`` holds."""

        seen: list[str] = []

        def shown():
            screen = self.screen()
            if not seen or seen[-1] != screen:
                seen.append(screen)
            return screen if check(screen) else None

        try:
            return wait_for(shown, timeout, interval=0.2)
        except AssertionError:
            last = "\n---\n".join(seen[-4:])
            raise AssertionError(f"the terminal never showed it; it showed:\n{last}") from None

    def press(self, key: str) -> None:
        self._tmux("send-keys", key)

    def exit_code(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_file.exists() and (text := self.exit_file.read_text().strip()):
                return int(text)
            time.sleep(0.1)
        raise AssertionError(f"the command did not end:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
