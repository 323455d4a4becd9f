"""The local stack the passes run against: `vivid-local` on a port of its own with a fresh
emulator, and the one-second clip behind the Webex and Zoom stand-ins (transcodes stay cheap)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from runner.config import MULTIPART_THRESHOLD, OUT, STACK_BIN, STACK_ROOT


def make_clip() -> Path:
    clip = OUT / "clip.mp4"
    if clip.exists():
        return clip
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = clip.with_suffix(".tmp.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=15",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(tmp)],
        check=True, stdin=subprocess.DEVNULL,
    )
    tmp.rename(clip)
    return clip


# ---------------------------------------------------------------------------------------------
# The local stack


class LocalStack:
    def __init__(self, clip: Path) -> None:
        recordings = OUT / "recordings"
        recordings.mkdir(parents=True, exist_ok=True)
        webex = recordings / "Weekly seminar.mp4"
        zoom = recordings / "Office hours.mp4"
        for path in (webex, zoom):
            path.write_bytes(clip.read_bytes())
        self.env = {
            **os.environ,
            "VIVID_PORT": "0",
            "VIVID_HOST": "127.0.0.1",
            # The run outlives the default 15 minutes on a busy machine; the template's maximum.
            "VIVID_ACCESS_TOKEN_TTL_SECS": "3600",
            "VIVID_MULTIPART_THRESHOLD_BYTES": str(MULTIPART_THRESHOLD),
            "VIVID_WEBEX_RECORDINGS": str(webex),
            "VIVID_ZOOM_RECORDINGS": str(zoom),
            "VIVID_STOP_ON_STDIN_EOF": "1",
            # Thousands of generated creations in one account: counts and the daily budget out of
            # the way (their refusals are tested in tests/tests/stack/limits.rs); the upload cap stays
            # the template's default, which the document declares as `sizeBytes`' maximum.
            "VIVID_TEMPLATE_PARAMETERS": ",".join(
                f"{name}={value}"
                for name, value in {
                    "MaxHostedSpaces": 1_000_000,
                    "MaxVideosPerSpace": 1_000_000,
                    "MaxSnapshotsPerVideo": 1_000_000,
                    "MaxDrawingsPerVideo": 1_000_000,
                    "MaxCheckpointsPerVideo": 1_000_000,
                    "DailyTranscodeBytes": 2**60,
                    "MaxStorageBytesPerAccount": 2**60,
                    # Thousands of requests a minute from one user and one address (their 429s
                    # are tested in tests/tests/stack/rate_limits.rs).
                    "RateLimitPerUser": 1_000_000,
                    "RateLimitPerIp": 1_000_000,
                    "DailyInvitationMails": 1_000_000,
                }.items()
            ),
            "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
        }
        self.env.pop("VIVID_AWS_ENDPOINT", None)
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.base: str | None = None
        self.ready = threading.Event()

    def start(self, timeout: float = 120) -> None:
        if not STACK_BIN.exists():
            raise RuntimeError(f"{STACK_BIN} is missing: run `cargo build -p vivid-local` (scripts/schemathesis.sh does)")
        self.errlog = open(OUT / "stack.log", "w")  # noqa: SIM115 (closed in stop)
        # Its own process group: moto, ffmpeg and the rest stop with it.
        self.proc = subprocess.Popen(
            [str(STACK_BIN)], cwd=STACK_ROOT, env=self.env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.errlog, text=True, start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.2):
            if self.proc.poll() is not None:
                raise RuntimeError(f"vivid-local exited with {self.proc.returncode}: see {OUT / 'stack.log'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"vivid-local not ready within {timeout} s: see {OUT / 'stack.log'}")

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            m = re.search(r"API \(every route of template\.yaml\)\s+(http://[\d.]+:\d+)", line)
            if m:
                self.base = m.group(1)
            if line.startswith("Ctrl-C stops everything"):
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
        (OUT / "stack.stdout.log").write_text("\n".join(self.lines) + "\n")
