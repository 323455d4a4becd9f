"""The local stack (`vivid-local` in a process group of its own, stopped with everything it
started) on two origins: the API's, and the front end's, where the stack itself serves the study
page (web/, with /config.js naming the API: local/src/infra/frontend.rs), as `make dev` does."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: local_stack.py
from local_stack import StackProcess  # noqa: E402
from runner.config import ACCESS_TTL, API_HOST, APP_HOST, LTI_ADMIN, MULTIPART_THRESHOLD, OUT, ROOT, STACK_BIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalStack(StackProcess):
    """The API on http://api.vivid.localhost:<port>, the study page on
    http://app.vivid.localhost:<page_port> (`origin`), both served by the stack."""

    def __init__(self, webex_recording: Path, zoom_recording: Path, lms_origins: str = "") -> None:
        api_port, page_port = free_port(), free_port()
        self.origin = f"http://{APP_HOST}:{page_port}"
        self.page_port = page_port
        self.api = f"http://{API_HOST}:{api_port}"
        env = {
            **os.environ,
            "VIVID_PORT": str(api_port),
            "VIVID_HOST": "127.0.0.1",
            "VIVID_FRONTEND_ORIGIN": self.origin,
            "VIVID_FRONTEND_API_URL": self.api,
            # The LMS whose course page may frame where a launch lands (and no other site).
            "VIVID_LMS_ORIGINS": lms_origins,
            "VIVID_ACCESS_TOKEN_TTL_SECS": str(ACCESS_TTL),
            "VIVID_MULTIPART_THRESHOLD_BYTES": str(MULTIPART_THRESHOLD),
            "VIVID_WEBEX_REDIRECT_URI": f"{self.origin}/webex-connected.html",
            "VIVID_WEBEX_RECORDINGS": str(webex_recording),
            "VIVID_ZOOM_REDIRECT_URI": f"{self.origin}/zoom-connected.html",
            "VIVID_ZOOM_RECORDINGS": str(zoom_recording),
            # An LMS launch lands on the page's sign-in landing (as in production: FrontendUrl),
            # which sends its code on to /lti; the LTI administrator registers the LMS.
            "VIVID_TEMPLATE_PARAMETERS": ",".join(filter(None, (
                f"FrontendUrl={self.origin}/signed-in.html,LtiAdmins={LTI_ADMIN}",
                os.environ.get("VIVID_TEMPLATE_PARAMETERS")))),
        }
        env.pop("VIVID_FRONTEND_SERVE", None)
        super().__init__(STACK_BIN, ROOT, OUT, env, "run `cargo build -p vivid-local` (make test-browser does)")

    def start(self, timeout: float = 90) -> None:
        super().start(timeout)
        served = [line for line in self.lines if "study page (web/)" in line]
        if not served or self.origin not in served[0]:
            raise RuntimeError(f"the stack does not serve the study page on {self.origin}: {served}")
