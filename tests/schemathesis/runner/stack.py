"""The local stack the passes run against: `vivid-local` on a port of its own with a fresh
emulator, and the one-second clip behind the Webex and Zoom stand-ins (transcodes stay cheap)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: local_stack.py
from local_stack import StackProcess  # noqa: E402
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


class LocalStack(StackProcess):
    def __init__(self, clip: Path) -> None:
        recordings = OUT / "recordings"
        recordings.mkdir(parents=True, exist_ok=True)
        webex = recordings / "Weekly seminar.mp4"
        zoom = recordings / "Office hours.mp4"
        for path in (webex, zoom):
            path.write_bytes(clip.read_bytes())
        env = {
            **os.environ,
            "VIVID_PORT": "0",
            "VIVID_HOST": "127.0.0.1",
            # No study page: the front end's port stays free for a `make dev` beside the run.
            "VIVID_FRONTEND_SERVE": "off",
            # The run outlives the default 15 minutes on a busy machine; the template's maximum.
            "VIVID_ACCESS_TOKEN_TTL_SECS": "3600",
            "VIVID_MULTIPART_THRESHOLD_BYTES": str(MULTIPART_THRESHOLD),
            "VIVID_WEBEX_RECORDINGS": str(webex),
            "VIVID_ZOOM_RECORDINGS": str(zoom),
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
        super().__init__(STACK_BIN, STACK_ROOT, OUT, env, "run `cargo build -p vivid-local` (scripts/schemathesis.sh does)")

    def start(self, timeout: float = 120) -> None:
        super().start(timeout)
