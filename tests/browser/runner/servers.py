"""The two origins of the test: the page's (a static server for tests/browser/ with /config.js
naming the API; the runner's own Python files are not served) and the API's, the local stack
(`vivid-local` in a process group of its own, stopped with everything it started)."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from runner.config import ACCESS_TTL, APP_HOST, MULTIPART_THRESHOLD, OUT, PAGE, ROOT, STACK_BIN


class PageServer:
    def __init__(self) -> None:
        self.config = b""
        page = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(PAGE), **kwargs)

            def do_GET(self):  # noqa: N802 (http.server's name)
                if self.path.split("?")[0] == "/config.js":
                    self.send_response(200)
                    self.send_header("content-type", "text/javascript")
                    self.send_header("cache-control", "no-store")
                    self.send_header("content-length", str(len(page.config)))
                    self.end_headers()
                    self.wfile.write(page.config)
                    return
                if self.path.split("?")[0].endswith((".py", ".pyc")):
                    self.send_error(404)
                    return
                super().do_GET()

            def end_headers(self):
                self.send_header("cache-control", "no-store")
                super().end_headers()

            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.origin = f"http://{APP_HOST}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self, api: str) -> None:
        self.config = f"window.VIVID_CONFIG = {json.dumps({'api': api})};\n".encode()
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():  # shutdown() waits for a serve_forever that never started
            self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------------
# The local stack


class LocalStack:
    def __init__(self, page_origin: str, webex_recording: Path, zoom_recording: Path) -> None:
        self.env = {
            **os.environ,
            "VIVID_PORT": "0",
            "VIVID_HOST": "127.0.0.1",
            "VIVID_FRONTEND_ORIGIN": page_origin,
            "VIVID_ACCESS_TOKEN_TTL_SECS": str(ACCESS_TTL),
            "VIVID_MULTIPART_THRESHOLD_BYTES": str(MULTIPART_THRESHOLD),
            "VIVID_WEBEX_REDIRECT_URI": f"{page_origin}/webex-connected.html",
            "VIVID_WEBEX_RECORDINGS": str(webex_recording),
            "VIVID_ZOOM_REDIRECT_URI": f"{page_origin}/zoom-connected.html",
            "VIVID_ZOOM_RECORDINGS": str(zoom_recording),
            # The stack stops when this runner's end of its stdin closes, however the runner ends.
            "VIVID_STOP_ON_STDIN_EOF": "1",
        }
        self.env.pop("VIVID_AWS_ENDPOINT", None)
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.port: int | None = None
        self.ready = threading.Event()

    def start(self, timeout: float = 90) -> None:
        if not STACK_BIN.exists():
            raise RuntimeError(f"{STACK_BIN} is missing: run `cargo build -p vivid-local` (make test-browser does)")
        self.errlog = open(OUT / "stack.log", "w")  # noqa: SIM115 (closed in stop)
        # Its own process group: moto, ffmpeg and the rest stop with it.
        self.proc = subprocess.Popen(
            [str(STACK_BIN)], cwd=ROOT, env=self.env, stdin=subprocess.PIPE,
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
            m = re.search(r"API \(every route of template\.yaml\)\s+http://[\d.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
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
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        # Whatever is left of its group (moto, ffmpeg), by the group's id.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
        self.errlog.close()
        (OUT / "stack.stdout.log").write_text("\n".join(self.lines) + "\n")
