"""Background processes started by `make run`: one PID file and one log file each under the run folder.

Each service runs in its own process session, so `stop` ends it and every child it spawned
(MLflow's server workers, say) by signalling the whole process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import requests


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1 (for isolated stacks: tests, benchmarks)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class ServiceError(RuntimeError):
    """A service did not come up (or down) as expected."""


class ManagedProcess:
    def __init__(self, name: str, run_dir: Path):
        self.name = name
        self.pid_file = run_dir / "pids" / f"{name}.pid"
        self.log_file = run_dir / "logs" / f"{name}.log"

    def pid(self) -> int | None:
        """The PID if the process recorded in the PID file is still alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
        except psutil.NoSuchProcess:
            return None
        return pid

    def start(self, command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
        if (running := self.pid()) is not None:
            raise ServiceError(f"{self.name} is already running (pid {running}); run `make stop` first")
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def wait_http(self, url: str, timeout_s: float) -> None:
        """Wait until `url` answers 200, failing early if the process died."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.pid() is None:
                raise ServiceError(f"{self.name} exited during start; see {self.log_file}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise ServiceError(f"{self.name} did not answer {url} within {timeout_s:.0f}s; see {self.log_file}")

    def stop(self, timeout_s: float = 30) -> bool:
        """SIGTERM the process group, SIGKILL what is left after `timeout_s`. True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        try:
            group = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            group = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(group, timeout=timeout_s)
        for proc in alive:
            proc.kill()
        psutil.wait_procs(alive, timeout=5)
        self.pid_file.unlink(missing_ok=True)
        return True
