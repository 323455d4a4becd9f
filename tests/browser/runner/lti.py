"""The study page inside an LMS (issue 28): tests/lti/platform.py, an LTI 1.3 platform built on the
PyPI library lti1p3platform, is the LMS, on its own site (http://127.0.0.1:<port>, another site
than the page's *.vivid.localhost, so the tool in its course page is third-party).

- `Lms.prepare`: the stack's LTI administrator makes a registration URL, the LMS registers the
  tool with it (LTI Dynamic Registration, in the administrator's browser); an instructor's launch
  (top level, the LMS's form post to the tool) makes the course's space; the instructor uploads a
  clip there with the page's own calls (presigned PUT), READY.
- `Lms.learner`: in a Chromium whose profile blocks third-party cookies (and with
  `--test-third-party-cookie-phaseout`), a learner opens the LMS's course page, which frames the
  tool's login initiation URL with a launch whose link names the lecture (its target
  `…/lti/launch?video=<id>` and custom `vivid_video`, as deep linking puts them). In the iframe: the
  login, the LMS's form post, the launch's redirect to the page, the code exchanged for the session
  kept in memory, the lecture opened and playing (currentTime advancing, a decoded frame). Checked
  there: no cookie can be set and the frame has no storage access (so blocking is in effect: the
  same probe in a profile that allows third-party cookies sets it, which `probe_control` shows),
  the code left the address, no request carried a cookie to the API, a refresh with the refresh
  token in the body works; a launch the tool refuses, a used code and a reload without a code
  each say what to do.
"""

from __future__ import annotations

import http.client
import http.server
import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from runner.config import CHROMIUM, CHROMIUM_ARGS, HEADED, LMS_CHROMIUM_ARGS, LTI_ADMIN, OUT, ROOT, log
from runner.servers import LocalStack
from runner.steps import Run, ev

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
COURSE = {"context": "course-waves", "title": "Waves 201"}
# What the iframe's document finds of cookies and storage access: a cookie it sets for its own
# site (SameSite=None; Secure, as a third-party cookie must be) and Storage Access.
COOKIE_PROBE = """async () => {
  document.cookie = 'vivid_probe=1; SameSite=None; Secure; Path=/';
  const set = document.cookie.includes('vivid_probe=1');
  document.cookie = 'vivid_probe=; Max-Age=0; SameSite=None; Secure; Path=/';
  return { cookieSet: set, hasStorageAccess: await document.hasStorageAccess(), framed: window.top !== window };
}"""


def http_call(base: str, method: str, path: str, *, token: str | None = None, body=None, form: str | None = None):
    """One request to `base` (http://host:port, reached on 127.0.0.1 with that Host): (status,
    headers, parsed body)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
    headers = {"Host": parts.netloc}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = form.encode()
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed
    finally:
        conn.close()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Platform:
    """tests/lti/platform.py in a process of its own (stopped by its handle); `base` its address."""

    def __init__(self) -> None:
        self.errlog = (OUT / "lms.log").open("w")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "tests" / "lti" / "platform.py")],
            stdout=subprocess.PIPE, stderr=self.errlog, text=True,
        )
        assert self.proc.stdout
        self.base = self.proc.stdout.readline().strip()
        if not self.base.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the LMS (tests/lti/platform.py) did not start: see {OUT / 'lms.log'} (.venv: scripts/venv.sh)")

    def call(self, method: str, path: str, body=None):
        status, _, parsed = http_call(self.base, method, path, body=body)
        if status >= 300:
            raise RuntimeError(f"the LMS answered {method} {path} with {status}: {parsed}")
        return parsed

    def hint(self, name: str, spec: dict) -> None:
        self.call("PUT", f"/_test/hints/{name}", spec)

    def login_url(self, hint: str) -> str:
        return self.call("GET", f"/_test/login-url?hint={hint}")["url"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.errlog.close()


def frame_at(page, prefix: str, timeout: float = 30):
    """The page's frame whose address starts with `prefix`, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in page.frames:
            if f != page.main_frame and f.url.startswith(prefix):
                return f
        page.wait_for_timeout(100)
    raise TimeoutError(f"no frame at {prefix}: {[f.url[:120] for f in page.frames]}")


def profile(name: str, cookie_controls_mode: int) -> Path:
    """A fresh Chromium profile whose third-party cookie setting is `cookie_controls_mode` (0 allow,
    1 block: Settings > Privacy > Third-party cookies)."""
    root = OUT / name
    shutil.rmtree(root, ignore_errors=True)
    (root / "Default").mkdir(parents=True)
    prefs = {"profile": {"cookie_controls_mode": cookie_controls_mode, "block_third_party_cookies": cookie_controls_mode == 1}}
    (root / "Default" / "Preferences").write_text(json.dumps(prefs))
    return root


class Lms:
    """The LMS and what its steps share: the course's space and lecture."""

    def __init__(self, run: Run, browser, stack: LocalStack, clips: dict[str, Path], platform: Platform) -> None:
        self.run, self.browser, self.stack, self.clips = run, browser, stack, clips
        self.platform: Platform | None = platform
        self.s: dict = {}
        # A step's browser contexts stay open until the next step starts, so that a failure's
        # screenshot (Run.artifacts, after the step) still has its page.
        self.contexts: list = []

    def release(self) -> None:
        while self.contexts:
            self.contexts.pop().close()

    def close(self) -> None:
        self.release()

    def watch(self, page, tag: str) -> None:
        run = self.run
        run.page = page
        page.on("console", lambda m: run.console.append(f"[{tag}] [{m.type}] {m.text}"))
        page.on("pageerror", lambda e: run.console.append(f"[{tag}] [pageerror] {e}"))
        page.on("requestfailed", lambda r: run.console.append(f"[{tag}] [requestfailed] {r.method} {r.url[:160]} {r.failure}"))
        page.on("framenavigated", lambda f: run.console.append(f"[{tag}] [navigated] {f.url[:160]}"))
        page.on("response", lambda r: r.status >= 400 and run.console.append(f"[{tag}] [{r.status}] {r.request.method} {r.url[:160]}"))

    # -- the LMS registers the tool; an instructor's launch; a lecture READY in the course --------
    def prepare(self) -> None:
        run, stack = self.run, self.stack
        started = time.monotonic()
        platform = self.platform
        assert platform
        log(f"   LMS {platform.base} (tests/lti/platform.py)")
        status, _, minted = http_call(stack.api, "GET", f"/_local/token?{urlencode({'email': LTI_ADMIN})}")
        run.require(status == 200 and minted.get("accessToken"), "the LTI administrator has a token", minted)
        status, _, invite = http_call(stack.api, "POST", "/lti/registration-invitations", token=minted["accessToken"])
        run.require(status == 201 and invite["registrationUrl"].startswith(f"{stack.api}/lti/register?invite="),
                    "POST /lti/registration-invitations gives the administrator a registration URL", (status, invite))
        start = platform.call("GET", f"/_test/registration-start?{urlencode({'tool': invite['registrationUrl']})}")["url"]

        ctx = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.contexts.append(ctx)
        page = ctx.new_page()
        self.watch(page, "instructor")
        # The LMS opens the URL in its administrator's browser: the tool registers with the LMS.
        page.goto(start)
        run.require("VIVID is registered" in page.content(), "the tool answers the registration's closing page", page.url)
        reg = platform.call("GET", "/_test/registration")
        run.require(reg and reg["initiate_login_uri"] == f"{stack.api}/lti/login"
                    and reg["redirect_uris"] == [f"{stack.api}/lti/launch"],
                    "the LMS registered the tool's login and launch URLs on the API's host", reg)
        registered = time.monotonic()

        # The instructor's first launch, top level (an LMS opening the tool in a window): the
        # login, the LMS's page posting the ID token to the tool, the page signed in at /lti.
        platform.hint("instructor", {"user": "teacher-1", "roles": [INSTRUCTOR], "name": "Tess Teacher", **COURSE})
        page.goto(platform.login_url("instructor"))
        page.wait_for_url(re.compile(re.escape(f"{stack.origin}/lti") + "(#.*)?$"), timeout=30000)
        page.wait_for_function("() => window.booted !== undefined", timeout=30000)
        b = ev(page, "() => window.booted")
        launch = b.get("launch") or {}
        run.require(b.get("signedIn") and b.get("source") == "lti" and launch.get("spaceId") and not launch.get("videoId"),
                    "the instructor's launch signs the page in at /lti with the course's space", b)
        page.wait_for_function("() => document.getElementById('space-name').textContent === 'Waves 201'", timeout=30000)
        space = ev(page, "([p]) => app.call('GET', p)", f"/spaces/{launch['spaceId']}")
        run.check(space["status"] == 200 and space["body"].get("role") == "host", "the instructor hosts the course's space", space)
        self.s["space"] = launch["spaceId"]
        launched = time.monotonic()

        page.set_input_files("#upload-file", str(self.clips["small"]))
        up = ev(page, "([s, t]) => app.uploadSingle(s, 'upload-file', t)", self.s["space"], "Standing waves")
        run.require(up["put"]["status"] == 200, "the instructor's clip went to S3 (presigned PUT)", up["put"])
        video = up["video"]["videoId"]
        ready = ev(page, "([v]) => app.waitReady(v, 180000)", video)
        run.require(ready["video"]["status"] == "READY", "the course's lecture became READY", ready["video"])
        self.s["video"] = video
        body_refreshes = [r for r in ev(page, "() => app.refreshes()") if r["refreshTokenInBody"]]
        log(f"   LMS up and the tool registered in {registered - started:.1f} s, the instructor's launch "
            f"{launched - registered:.1f} s, the lecture uploaded and READY in {time.monotonic() - launched:.1f} s "
            f"({len(body_refreshes)} refreshes with the launch's refresh token meanwhile)")

    # -- a learner's launch in the course page's iframe, third-party cookies blocked ---------------
    def learner(self) -> None:
        self.release()
        run, stack, platform = self.run, self.stack, self.platform
        run.require(platform is not None and "video" in self.s, "the course has its lecture (the step before)")
        assert platform
        video, origin = self.s["video"], stack.origin
        api_host = urlsplit(stack.api).hostname
        platform.hint("learner", {
            "user": "learner-1", "roles": [LEARNER], "name": "Lee Learner", **COURSE,
            "target": f"{stack.api}/lti/launch?video={video}", "custom": {"vivid_video": video},
        })
        ctx = self.browser.browser_type.launch_persistent_context(
            str(profile("lms-profile-blocked", 1)), executable_path=CHROMIUM, headless=not HEADED,
            args=LMS_CHROMIUM_ARGS, viewport={"width": 1280, "height": 900},
        )
        self.contexts.append(ctx)
        api_requests: list[dict] = []

        def seen(r) -> None:
            if urlsplit(r.url).hostname == api_host:
                api_requests.append({"method": r.method, "url": r.url[:160], "cookie": r.headers.get("cookie"),
                                     "body": (r.post_data or "")[:200] if r.method == "POST" else None})

        ctx.on("request", seen)
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        self.watch(page, "learner")
        opened = time.monotonic()
        page.goto(f"{platform.base}/course/learner")
        run.check(page.title() == "Waves 201", "the LMS's course page is open", page.title())
        frame = frame_at(page, f"{origin}/lti")
        frame.wait_for_function("() => window.booted !== undefined", timeout=30000)
        b = frame.evaluate("() => window.booted")
        launch = b.get("launch") or {}
        run.require(b.get("signedIn") and b.get("source") == "lti", "the tool in the iframe signed in from the launch", b)
        run.check(launch.get("videoId") == video and launch.get("spaceId") == self.s["space"],
                  "the launch opens the lecture its link names, in the course's space", launch)
        signed_in = time.monotonic()
        here = frame.evaluate("() => location.href")
        run.check(here == f"{origin}/lti", "the launch's code left the iframe's address", here)

        probe = frame.evaluate(COOKIE_PROBE)
        run.require(probe == {"cookieSet": False, "hasStorageAccess": False, "framed": True},
                    "third-party cookies are blocked in the iframe: its cookie is not kept, no storage access", probe)

        frame.wait_for_function(f"() => document.body.dataset.video === {json.dumps(video)}", timeout=60000)
        t0 = frame.evaluate("() => document.getElementById('video').currentTime")
        frame.wait_for_function(f"() => {{ const v = document.getElementById('video'); return !v.paused && v.currentTime > {t0 + 1.5}; }}",
                                timeout=30000)
        playing = frame.evaluate("""() => { const v = document.getElementById('video');
            return { currentTime: v.currentTime, paused: v.paused, width: v.videoWidth, height: v.videoHeight,
                     title: document.getElementById('video-title').textContent }; }""")
        frame_px = frame.evaluate("() => app.frameStats()")
        run.check(playing["title"] == "Standing waves", "the player shows the course's lecture", playing)
        run.check(frame_px["litFraction"] > 0.3 and frame_px["colours"] >= 8, "a decoded frame is drawn (not black)", frame_px)
        played = time.monotonic()
        log(f"   course page to signed in {signed_in - opened:.1f} s, to playing {played - opened:.1f} s: "
            f"{t0:.2f} -> {playing['currentTime']:.2f} s, {playing['width']}x{playing['height']}, frame {frame_px}")

        # The session is in memory only; it refreshes with the refresh token in the body.
        kept = frame.evaluate("""() => { const t = window.vividState.token; const stored = []; const blocked = [];
            for (const kind of ['localStorage', 'sessionStorage']) {
              try { stored.push(...Object.values(window[kind])); } catch { blocked.push(kind); }
            }
            return { cookie: document.cookie, inStorage: stored.some((v) => v.includes(t)), blocked }; }""")
        run.check(kept["cookie"] == "" and not kept["inStorage"], "no cookie, and the token in no storage", kept)
        log(f"   in the iframe: {probe}; its storage {'blocked (' + ', '.join(kept['blocked']) + ')' if kept['blocked'] else 'usable'}")
        refreshed = frame.evaluate("() => app.refresh()")
        run.check(refreshed["status"] == 200 and refreshed["refreshTokenInBody"],
                  "POST /auth/refresh with the refresh token in the body renews the session (a new pair)", refreshed)
        me = frame.evaluate("() => app.me()")
        run.check(me.get("email", "").endswith("@lti.invalid") and me.get("name") == "Lee Learner",
                  "the session is the learner's (the LMS's user, no e-mail)", me)
        cookies = [r for r in api_requests if r["cookie"]]
        run.check(not cookies, "no request from the iframe carried a cookie to the API", cookies)
        refreshes = [r for r in api_requests if r["url"].endswith("/auth/refresh")]
        run.check(bool(refreshes) and all("refreshToken" in (r["body"] or "") for r in refreshes),
                  "/lti never refreshes through the cookie: the refresh token is in each refresh's body", refreshes)

        # A used code and a reload without one: the page says what to do.
        used = self.used_code("learner")
        frame.goto(f"{origin}/signed-in.html#ltiCode={used}")
        frame = frame_at(page, f"{origin}/lti")
        frame.wait_for_function("() => window.booted !== undefined && document.getElementById('who').textContent !== 'not signed in'",
                                timeout=15000)
        again = frame.evaluate("async () => [await window.booted, document.getElementById('who').textContent]")
        run.check(again[0].get("signedIn") is False and again[0].get("error") == "invalid_code"
                  and "open the link in your LMS again" in again[1], "a used code: not signed in, and told to launch again", again)
        frame.goto(f"{origin}/lti")
        frame = frame_at(page, f"{origin}/lti")
        frame.wait_for_function("() => window.booted !== undefined && document.getElementById('who').textContent !== 'not signed in'",
                                timeout=15000)
        reload = frame.evaluate("async () => [await window.booted, document.getElementById('who').textContent]")
        run.check(reload[0].get("error") == "no_launch" and "open the link in the course again" in reload[1],
                  "reloaded without a launch: told to open the link in the course", reload)
        # A launch the tool refuses (a learner of a course no instructor has opened: 409
        # course_not_linked) lands in the iframe at /lti with the reason, which the page says.
        platform.hint("stranger", {"user": "learner-2", "roles": [LEARNER], "name": "Sam Stranger",
                                   "context": "course-unopened", "title": "Optics 301"})
        page.goto(f"{platform.base}/course/stranger")
        frame = frame_at(page, f"{origin}/lti")
        frame.wait_for_function("() => window.booted !== undefined && document.getElementById('who').textContent !== 'not signed in'",
                                timeout=15000)
        refusal = frame.evaluate("async () => [await window.booted, document.getElementById('who').textContent, location.href]")
        run.check(refusal[0].get("error") == "course_not_linked" and len(refusal[1]) > len("sign-in failed: ") + 10
                  and refusal[2] == f"{origin}/lti", "a refused launch lands at /lti, which says why", refusal)

    def used_code(self, hint: str) -> str:
        """A launch made and exchanged at API level (the Rust tests' way): its spent code."""
        platform, stack = self.platform, self.stack
        assert platform
        status, headers, _ = http_call(stack.api, "GET", path_of(platform.login_url(hint)))
        self.run.require(status == 302, "the login initiation redirects to the LMS", (status, headers))
        form = platform.call("GET", path_of(headers["location"]))  # JSON: the form's fields
        status, headers, _ = http_call(stack.api, "POST", path_of(form["action"]),
                                       form=urlencode({"id_token": form["id_token"], "state": form["state"]}))
        code = headers.get("location", "").partition("#ltiCode=")[2]
        self.run.require(status == 302 and code, "the launch answers the front end with a code", (status, headers))
        status, _, body = http_call(stack.api, "POST", "/lti/session", body={"code": code})
        self.run.require(status == 200, "the code is exchanged once", (status, body))
        return code

    # -- a site that is not the LMS, and an address someone else wrote ----------------------------
    def elsewhere(self) -> None:
        """Only the listed LMS may frame `/lti` (VIVID_LMS_ORIGINS, the page host's
        frame-ancestors): a page of another site framing it with a fragment of its own gets
        nothing (no page, no launch code read, no text shown). At top level, a refused launch's
        fragment with a text of its own (an address anybody can write) shows the page's words for
        the code, never that text; a code the page does not know shows its generic words."""
        self.release()
        run, origin = self.run, self.stack.origin
        ctx = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.contexts.append(ctx)
        page = ctx.new_page()
        self.watch(page, "elsewhere")
        lure = "Your account is locked. Call 555-0100 now"
        framed_at = f"{origin}/lti#error=course_not_linked&error_description={lure.replace(' ', '%20')}"
        # Another site: a page of this machine's on a port of its own (a real server, as a page a
        # browser fetched; the LMS is http://127.0.0.1:<its port>, another origin).
        body = f'<!doctype html><title>elsewhere</title><iframe id="f" src="{framed_at}"></iframe>'.encode()

        class Elsewhere(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.wait_for_timeout(3000)
        finally:
            server.shutdown()
            server.server_close()
        child = [f for f in page.frames if f != page.main_frame]
        run.require(len(child) == 1, "the other site's page has its iframe", [f.url for f in page.frames])
        try:
            booted = child[0].evaluate("() => typeof window.booted")
        except Exception as e:  # noqa: BLE001 (a blocked frame's error page may refuse scripts)
            booted = f"no script ({type(e).__name__})"
        seen = [line for line in run.console if line.startswith("[elsewhere]")]
        run.check(booted != "object" and any("chrome-error://" in line or "frame-ancestors" in line for line in seen),
                  "a page of a site not listed cannot frame /lti: the browser refuses it, the page never starts there",
                  {"frame": child[0].url[:120], "booted": booted, "console": seen[-4:]})

        # Top level: the same address, and one with a code the page does not know.
        for code, words in (("course_not_linked", "no instructor has opened VIVID in this course yet"),
                            ("call_us_now", "the launch was refused")):
            page.goto("about:blank")
            page.goto(f"{origin}/lti#error={code}&error_description={lure.replace(' ', '%20')}&request_id=%3Cb%3E")
            page.wait_for_function("() => window.booted !== undefined && document.getElementById('who').textContent !== 'not signed in'",
                                   timeout=15000)
            said = page.evaluate("async () => [await window.booted, document.getElementById('who').textContent]")
            run.check(words in said[1] and "555" not in said[1] and "<b>" not in said[1] and "call_us_now" not in said[1]
                      and said[0].get("signedIn") is False,
                      f"a refused launch's fragment ({code}) shows the page's words, not the address's text", said)
        # The page's other addresses too: a refused sign-in the page did not start.
        for path in ("/", "/invitations/anything"):
            page.goto("about:blank")
            page.goto(f"{origin}{path}#error=access_denied&error_description={lure.replace(' ', '%20')}")
            page.wait_for_function("() => document.getElementById('who') && document.getElementById('who').textContent.startsWith('sign-in failed')",
                                   timeout=15000)
            said = page.evaluate("() => document.getElementById('who').textContent")
            run.check("555" not in said and "did not start" in said,
                      f"{path}: a refused sign-in this page did not start shows the page's words, not the address's text", said)

    # -- the probe's control: a profile that allows third-party cookies ---------------------------
    def probe_control(self) -> None:
        """The same course page and probe in a profile that allows third-party cookies: there the
        iframe keeps its cookie and has storage access, so the learner's step would see them if
        its browser did not block them (and the launch works either way)."""
        self.release()
        run, platform, origin = self.run, self.platform, self.stack.origin
        run.require(platform is not None and "video" in self.s, "the course has its lecture (the steps before)")
        assert platform
        ctx = self.browser.browser_type.launch_persistent_context(
            str(profile("lms-profile-allowed", 0)), executable_path=CHROMIUM, headless=not HEADED, args=CHROMIUM_ARGS,
        )
        self.contexts.append(ctx)
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        self.watch(page, "control")
        page.goto(f"{platform.base}/course/learner")
        frame = frame_at(page, f"{origin}/lti")
        frame.wait_for_function("() => window.booted !== undefined", timeout=30000)
        b = frame.evaluate("() => window.booted")
        run.check(b.get("signedIn") and (b.get("launch") or {}).get("videoId") == self.s["video"],
                  "the launch signs in there too", b)
        probe = frame.evaluate(COOKIE_PROBE)
        run.check(probe == {"cookieSet": True, "hasStorageAccess": True, "framed": True},
                  "with third-party cookies allowed the same probe keeps its cookie (so the probe can tell)", probe)


def in_lms(run: Run, browser, stack: LocalStack, clips: dict[str, Path], platform: Platform) -> None:
    """The LMS's steps (run.py runs them after the study flow, whatever became of it)."""
    lms = Lms(run, browser, stack, clips, platform)
    try:
        run.step("LMS: an LTI admin's URL registers the tool; an instructor's launch, a lecture READY in the course",
                 lms.prepare, needed=False)
        run.step("LMS: the tool in a course page's iframe, third-party cookies blocked, launches and plays the lecture",
                 lms.learner, needed=False)
        run.step("LMS: the cookie probe's control (third-party cookies allowed)", lms.probe_control, needed=False)
        run.step("LMS: another site cannot frame the launch's landing; a link's error text is never shown",
                 lms.elsewhere, needed=False)
    finally:
        lms.close()
