"""The local stack as the Python test runners start it (tests/browser/runner/servers.py,
tests/schemathesis/runner/stack.py): `vivid-local` in a process group of its own, ready when it
prints its banner, stopped with everything it started (moto, ffmpeg) however the runner ends.
Standard library only."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

BANNER_API = re.compile(r"API \(every route of template\.yaml\)\s+(http://[\d.]+:(\d+))")
BANNER_END = "Ctrl-C stops everything"


class StackProcess:
    """`binary` run in `cwd` with `env`; its stderr in `out`/stack.log, its stdout kept and written
    to `out`/stack.stdout.log when it stops. `build` says how to build a missing binary."""

    def __init__(self, binary: Path, cwd: Path, out: Path, env: dict[str, str], build: str) -> None:
        self.binary, self.cwd, self.out, self.build = binary, cwd, out, build
        # The stack stops when this runner's end of its stdin closes, however the runner ends.
        self.env = {**env, "VIVID_STOP_ON_STDIN_EOF": "1"}
        self.env.pop("VIVID_AWS_ENDPOINT", None)
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.base: str | None = None
        self.port: int | None = None
        self.ready = threading.Event()

    def start(self, timeout: float) -> None:
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} is missing: {self.build}")
        log = self.out / "stack.log"
        self.errlog = open(log, "w")  # noqa: SIM115 (closed in stop)
        # Its own process group: moto, ffmpeg and the rest stop with it.
        self.proc = subprocess.Popen(
            [str(self.binary)], cwd=self.cwd, env=self.env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.errlog, text=True, start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.2):
            if self.proc.poll() is not None:
                raise RuntimeError(f"vivid-local exited with {self.proc.returncode}: see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"vivid-local not ready within {timeout} s: see {log}")

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            m = BANNER_API.search(line)
            if m:
                self.base, self.port = m.group(1), int(m.group(2))
            if line.startswith(BANNER_END):
                self.ready.set()

    def stop(self) -> None:
        if not self.proc:
            return
        if self.proc.stdin:
            self.proc.stdin.close()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        try:  # whatever is left of its group (moto, ffmpeg), by the group's id
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
        self.errlog.close()
        (self.out / "stack.stdout.log").write_text("\n".join(self.lines) + "\n")
