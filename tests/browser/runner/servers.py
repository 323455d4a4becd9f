"""The two origins of the test: the page's (a static server for tests/browser/ with /config.js
naming the API; the runner's own Python files are not served) and the API's, the local stack
(`vivid-local` in a process group of its own, stopped with everything it started)."""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: local_stack.py
from local_stack import StackProcess  # noqa: E402
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


class LocalStack(StackProcess):
    def __init__(self, page_origin: str, webex_recording: Path, zoom_recording: Path) -> None:
        env = {
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
        }
        super().__init__(STACK_BIN, ROOT, OUT, env, "run `cargo build -p vivid-local` (make test-browser does)")

    def start(self, timeout: float = 90) -> None:
        super().start(timeout)
