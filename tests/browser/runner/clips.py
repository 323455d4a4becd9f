"""The clips: a ten-second lecture (one presigned PUT), a 20 MiB one (multipart), and the Webex
and Zoom stand-ins' recordings, generated with ffmpeg once and reused while the command is the
same (target/browser-test-clips/)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from runner.config import CLIPS


def ffmpeg(args: list[str], out: Path) -> Path:
    """Generates `out` with ffmpeg once; reuses it while the command is the same."""
    key = hashlib.sha256(json.dumps(args).encode()).hexdigest()[:12]
    path = out.with_name(f"{out.stem}-{key}{out.suffix}")
    if path.exists():
        return path
    CLIPS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp" + path.suffix)
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(tmp)], check=True, stdin=subprocess.DEVNULL)
    tmp.rename(path)
    return path


def make_clips() -> dict[str, Path]:
    small = ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=duration=10:size=1280x720:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=10",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"],
        CLIPS / "lecture-clip.mp4",
    )
    # About 20 MiB of real video (noise at a constant 28 Mbit/s): three parts of 8 MiB.
    large = ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=duration=6:size=1280x720:rate=30,noise=alls=30:allf=t",
         "-f", "lavfi", "-i", "sine=frequency=660:duration=6",
         "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "28M", "-minrate", "28M", "-maxrate", "28M",
         "-bufsize", "14M", "-x264-params", "nal-hrd=cbr", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"],
        CLIPS / "large-lecture.mp4",
    )
    # The Webex stand-in's recording (its topic is the file's name).
    webex_dir = CLIPS / "webex"
    webex_dir.mkdir(parents=True, exist_ok=True)
    webex = webex_dir / "Weekly seminar.mp4"
    shutil.copyfile(small, webex)
    zoom_dir = CLIPS / "zoom"
    zoom_dir.mkdir(parents=True, exist_ok=True)
    zoom = zoom_dir / "Office hours.mp4"
    shutil.copyfile(small, zoom)
    # The picked files keep the names a person would see.
    picked = CLIPS / "picked"
    picked.mkdir(parents=True, exist_ok=True)
    names = {"small": picked / "waves-lecture.mp4", "large": picked / "long-lecture.mp4"}
    shutil.copyfile(small, names["small"])
    shutil.copyfile(large, names["large"])
    return {**names, "webex": webex, "zoom": zoom}
