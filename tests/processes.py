"""Processes a test starts (app servers, a job worker): started with their output in a file,
waited for, always stopped, and their logs at hand for a failure report.

:class:`Processes` keeps every process a fixture started; ``stop_all`` ends them (terminate,
then kill), and ``new_output`` gives what they wrote since it was last asked (print it in a
fixture's teardown: pytest shows it with a failed test).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """A started process and the file its stdout and stderr go to."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    _shown: int = field(default=0, repr=False)

    def output(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def new_output(self) -> str:
        """What the process wrote since the last call."""
        text = self.output()
        new, self._shown = text[self._shown :], len(text)
        return new

    def stop(self, timeout: float = 10) -> None:
        """End the process (SIGTERM, after ``timeout`` seconds SIGKILL) and reap it."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)


class StartError(RuntimeError):
    """A process exited or did not become ready; the message holds its output."""


class Processes:
    """The processes of a fixture, each writing to its own file in ``folder``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[Process] = []

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> Process:
        """Start ``args`` (in the project folder, with exactly ``env`` as its environment)."""
        log_path = self.folder / f"{name}.log"
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(  # noqa: S603 (the project's own programs)
                list(args), cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT
            )
        process = Process(name, popen, log_path)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        """Stop every process started (the last first)."""
        for process in reversed(self.started):
            process.stop()

    def new_output(self) -> str:
        """What each process wrote since the last call, under its name."""
        parts = []
        for process in self.started:
            text = process.new_output()
            if text:
                parts.append(f"----- {process.name} (pid {process.popen.pid}) -----\n{text}")
        return "\n".join(parts)


def wait_until_ready(
    process: Process,
    url: str,
    timeout: float = 30,
    ready: Callable[[dict], bool] = lambda body: True,
) -> None:
    """Poll ``url`` (a JSON health answer) until it answers 200 and ``ready(body)`` holds;
    :class:`StartError` with the process's output if it exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise StartError(
                f"{process.name} exited with {process.popen.returncode}:\n{process.output()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                body = json.load(response)
            if ready(body):
                return
            last = f"200 but not ready: {body}"
        except urllib.error.HTTPError as error:
            last = f"{error.code}: {error.read(500).decode(errors='replace')}"
        except (OSError, ValueError) as error:
            last = str(error)
        time.sleep(0.2)
    raise StartError(
        f"{process.name} was not ready at {url} within {timeout:g} s (last: {last}):\n"
        f"{process.output()}"
    )


def project_environment(**settings: str) -> dict[str, str]:
    """The environment for one of the project's programs: this one's PATH, locale and home
    (not its app settings, so that the test decides them all), plus ``settings``."""
    kept = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
    return {
        **{key: os.environ[key] for key in kept if key in os.environ},
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
