"""Where things are, the host names the browser uses, the token's lifetime and the other constants
the flow asserts, Chromium's flags, and log. Environment knobs: VIVID_BROWSER_OUT,
VIVID_CHROMIUM, VIVID_LOCAL_BIN, VIVID_BROWSER_HEADED, VIVID_BROWSER_APP_HOST and
VIVID_BROWSER_API_HOST."""

from __future__ import annotations

import os
from pathlib import Path

# The repository; the study page is its web/, which the local stack serves.
ROOT = Path(__file__).resolve().parents[3]
OUT = Path(os.environ.get("VIVID_BROWSER_OUT") or ROOT / "target" / "browser-test")
CLIPS = ROOT / "target" / "browser-test-clips"
CHROMIUM = os.environ.get("VIVID_CHROMIUM", "/usr/bin/chromium")
STACK_BIN = Path(os.environ.get("VIVID_LOCAL_BIN") or ROOT / "target" / "debug" / "vivid-local")
HEADED = os.environ.get("VIVID_BROWSER_HEADED") == "1"
# The host names the browser uses (both loopback). Siblings of one site by default, as in
# production; e.g. VIVID_BROWSER_APP_HOST=localhost VIVID_BROWSER_API_HOST=127.0.0.1 shows what
# breaks when the front end and the API are on different sites.
APP_HOST = os.environ.get("VIVID_BROWSER_APP_HOST", "app.vivid.localhost")
API_HOST = os.environ.get("VIVID_BROWSER_API_HOST", "api.vivid.localhost")
# The refresh cookie: `__Host-` (Secure, Path=/, no Domain). Chromium treats http://*.localhost as
# a secure context, so it accepts the Secure, prefixed cookie from the local stack's plain HTTP.
REFRESH_COOKIE = "__Host-vivid_refresh"

ACCESS_TTL = 60  # seconds (the template's minimum): the flow outlives the first token
TOKEN_LEEWAY = 5  # the verifier's clock leeway (shared/tokens)
MIB = 1024 * 1024
MULTIPART_THRESHOLD = 8 * MIB
EMAIL = "ana@example.com"
# The stack's LTI administrator (template parameter LtiAdmins), who makes the LMS's registration URL.
LTI_ADMIN = "lti-admin@example.com"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    # *.localhost is loopback by spec; this keeps Chromium from trying ::1 first.
    "--host-resolver-rules=MAP *.vivid.localhost 127.0.0.1",
]
# The LMS's browser (runner/lti.py): third-party cookies phased out, as Chrome's tracking
# protection does. Its profile also says "block third-party cookies" (cookie_controls_mode 1): the
# flag alone gives way to a profile that allows them (Chromium 156), and the blocking must not hang
# on a build's defaults. The step checks in the iframe that it is in effect.
LMS_CHROMIUM_ARGS = [*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"]


def log(msg: str) -> None:
    print(msg, flush=True)
