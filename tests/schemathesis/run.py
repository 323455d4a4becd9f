#!/usr/bin/env python3
"""schemathesis against the local stack, as a host, a participant and a stranger.

`make test-api-fuzz` (scripts/schemathesis.sh) installs the pinned schemathesis into
`.venv/schemathesis`, builds `vivid-local` and runs this file, which:

1. starts the local stack (`target/debug/vivid-local`, a port of its own, a fresh emulator), with
   a one-second clip behind the Webex and Zoom stand-ins (transcodes stay cheap);
2. seeds it through the API only, signing users in as a client does (the Google stand-in's ID
   token for our tokens): a host, a participant, a stranger and an invitee; a space the
   participant belongs to, with a READY video (a real upload, transcoded) and a multipart upload
   left open; each member's progress, memo and checkpoint, drawings and snapshot; Webex and Zoom
   connected for everyone; refresh and ID tokens. Then, per pass, the disposable resources its
   destructive operations consume (hooks.py keeps them off the shared ones);
3. runs `schemathesis run docs/openapi.yaml` once per pass -- `host`, `participant`, `stranger`,
   and `account` (DELETE /users/me as a throwaway user) -- two at a time, every check on, a bounded
   number of examples per operation (schemathesis.toml), the pass's user pinned in a Web Fuzzing
   Commons auth file whose stranger (or host) is the peer for the object-level authorization
   check; seeded ids reach the requests through schemathesis dictionaries, drawn for most cases
   (the rest stay generated: unknown and malformed ids);
4. prints each pass's output, the failures hooks.py dropped as the contract (FINDINGS.md, D), a
   table of cases per pass, and one closing line `schemathesis: N passed, N failed, N skipped`
   over every generated case; exits non-zero on any failure or error.

Reports (JUnit, NDJSON events, a pytest file replaying each failure), each pass's config and seed
list, and the stack's log land in `target/schemathesis/` (VIVID_SCHEMATHESIS_OUT overrides).
FINDINGS.md beside this file says what the runs found. Knobs:

  VIVID_SCHEMATHESIS_PASSES     comma-separated subset of host,participant,stranger,account
  VIVID_SCHEMATHESIS_EXAMPLES   examples per operation (default: schemathesis.toml's)
  VIVID_SCHEMATHESIS_SEED       Hypothesis seed (default: a fixed one, so runs repeat)
  VIVID_SCHEMATHESIS_LANES      how many passes run at once (default 2)
  VIVID_SCHEMATHESIS_ARGS       extra arguments for every `schemathesis run`
  VIVID_SCHEMATHESIS_DOCUMENT   the OpenAPI document to test (default: docs/openapi.yaml), e.g. a draft
  VIVID_LOCAL_BIN, VIVID_LOCAL_ROOT  the stack's binary and the checkout it runs in
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = Path(os.environ.get("VIVID_SCHEMATHESIS_OUT") or ROOT / "target" / "schemathesis")
STACK_BIN = Path(os.environ.get("VIVID_LOCAL_BIN") or ROOT / "target" / "debug" / "vivid-local")
SCHEMATHESIS = Path(os.environ.get("VIVID_SCHEMATHESIS_BIN") or ROOT / ".venv" / "schemathesis" / "bin" / "schemathesis")
DOCUMENT = Path(os.environ.get("VIVID_SCHEMATHESIS_DOCUMENT") or ROOT / "docs" / "openapi.yaml")
# Where vivid-local runs (it reads template.yaml and starts .venv/bin/vivid-moto-server there).
STACK_ROOT = Path(os.environ.get("VIVID_LOCAL_ROOT") or ROOT)
BASE_CONFIG = HERE / "schemathesis.toml"
PASSES = ("host", "participant", "stranger", "account")
SEED = int(os.environ.get("VIVID_SCHEMATHESIS_SEED") or 20261101)
MIB = 1024 * 1024
MULTIPART_THRESHOLD = 8 * MIB


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# A clip for the upload and the stand-ins' recordings: one second, small, so transcodes stay cheap.


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


# ---------------------------------------------------------------------------------------------
# Seeding through the API


class SeedError(RuntimeError):
    pass


@dataclass
class User:
    name: str
    email: str
    token: str
    user_id: str
    personal_space: str = ""


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    ids: dict[str, list] = field(default_factory=dict)  # dictionary name -> values

    def add(self, name: str, *values) -> None:
        bucket = self.ids.setdefault(name, [])
        for v in values:
            if v not in bucket:
                bucket.append(v)


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, *, expect=(200, 201, 202, 204), **kw):
        headers = kw.pop("headers", {})
        if token:
            headers["authorization"] = f"Bearer {token}"
        resp = self.http.request(method, self.base + path, headers=headers, timeout=60, allow_redirects=False, **kw)
        if resp.status_code not in expect:
            raise SeedError(f"seeding: {method} {path} -> {resp.status_code}: {resp.text[:500]}")
        return resp

    def json(self, method: str, path: str, token: str | None = None, **kw) -> dict:
        resp = self.call(method, path, token, **kw)
        return resp.json() if resp.content else {}

    def user(self, name: str, email: str) -> User:
        """Signs in as a browser or app does (an ID token of the Google stand-in for our tokens),
        so the access token belongs to a session (`DELETE /users/me/sessions?keepCurrent=true`)."""
        q = urllib.parse.urlencode({"email": email, "name": name})
        id_token = self.json("GET", f"/_local/idp/id-token?{q}")["idToken"]
        body = self.json("POST", "/auth/google", json={"idToken": id_token})
        user = User(name=name, email=email, token=body["accessToken"], user_id=body["user"]["userId"])
        user.personal_space = body["user"]["personalSpaceId"]
        return user

    def snapshot(self, user: User, video_id: str, seconds: float, content_type: str) -> str:
        """A snapshot record (no image uploaded). The handler may want the image's size up front
        (quotas); the body the document names is tried when it refuses that field."""
        path = f"/videos/{video_id}/snapshots"
        body = {"videoSeconds": seconds, "contentType": content_type}
        resp = self.call("POST", path, user.token, json={**body, "sizeBytes": 1024}, expect=(201, 400, 422))
        if resp.status_code != 201:
            resp = self.call("POST", path, user.token, json=body)
        return resp.json()["snapshotId"]

    def connect(self, platform: str, user: User) -> None:
        """The connector flow a browser follows: authorize URL, the stand-in's redirect, the code."""
        login = self.json("GET", f"/{platform}/login", user.token)
        redirect = self.http.get(login["authorizeUrl"], allow_redirects=False, timeout=30)
        location = redirect.headers.get("location", "")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        if "code" not in q or "state" not in q:
            raise SeedError(f"seeding: {platform} authorize did not redirect with a code: {redirect.status_code} {location}")
        self.call("POST", f"/{platform}/token", user.token, json={"code": q["code"][0], "state": q["state"][0]})


def wait_ready(api: Api, token: str, video_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        video = api.json("GET", f"/videos/{video_id}", token)
        if video["status"] == "READY":
            return video
        if video["status"] == "FAILED":
            raise SeedError(f"seeding: the clip failed to transcode: {video.get('failureReason')}")
        if time.monotonic() > deadline:
            raise SeedError(f"seeding: the clip is {video['status']} after {timeout} s")
        time.sleep(0.5)


def seed_world(api: Api, clip: Path) -> World:
    """What every pass shares; no operation of any pass may destroy it (hooks.py keeps it)."""
    w = World()
    host = api.user("Hana Host", "host@example.com")
    part = api.user("Pia Participant", "participant@example.com")
    stranger = api.user("Sam Stranger", "stranger@example.com")
    # Registered, in no space: whom a host may add (201). The stranger's address is left out of
    # the e-mails to add, so that the stranger stays one for the whole run.
    invitee = api.user("Ivo Invitee", "invitee@example.com")
    w.users = {"host": host, "participant": part, "stranger": stranger, "invitee": invitee}

    space = api.json("POST", "/spaces", host.token, json={"name": "Physics 101", "description": "Waves"})["spaceId"]
    api.call("POST", f"/spaces/{space}/members", host.token, json={"email": part.email})

    size = clip.stat().st_size
    ready = api.json("POST", f"/spaces/{space}/videos", host.token,
                     json={"title": "Waves", "fileName": "waves.mp4", "contentType": "video/mp4", "sizeBytes": size})
    upload = ready["upload"]
    put = api.http.put(upload["url"], data=clip.read_bytes(), headers=upload.get("headers") or {"content-type": "video/mp4"}, timeout=60)
    if put.status_code != 200:
        raise SeedError(f"seeding: the presigned PUT answered {put.status_code}: {put.text[:300]}")
    # A multipart upload left open (uploadParts, completeUpload).
    multi = api.json("POST", f"/spaces/{space}/videos", host.token,
                     json={"title": "Long lecture", "fileName": "long.mp4", "contentType": "video/mp4", "sizeBytes": 3 * MULTIPART_THRESHOLD})
    if multi["upload"]["kind"] != "multipart":
        raise SeedError(f"seeding: expected a multipart upload, got {multi['upload']['kind']}")

    w.add("spaces", space)
    w.add("videos", ready["videoId"], multi["videoId"])
    w.add("users", host.user_id, part.user_id)
    vid = ready["videoId"]

    for user in (host, part, stranger):
        api.connect("webex", user)
        api.connect("zoom", user)
    recordings = api.json("GET", "/webex/recordings", host.token)["items"]
    w.add("webex_recordings", *[r["recordingId"] for r in recordings])
    meetings = api.json("GET", "/users/me/recordings", host.token)["items"]
    for m in meetings:
        w.add("zoom_meetings", m["meetingId"])
        w.add("zoom_files", *[f["recordingFileId"] for f in m["files"]])

    # Google sign-in: an ID token the stand-in signed (reusable until it expires) and, from it,
    # refresh tokens (each good once: reuse revokes its family, as it should).
    id_token = api.json("GET", "/_local/idp/id-token?" + urllib.parse.urlencode({"email": "signin@example.com"}))["idToken"]
    w.add("id_tokens", id_token)
    for _ in range(3):
        w.add("refresh_tokens", api.json("POST", "/auth/google", json={"idToken": id_token})["refreshToken"])

    # Notes are taken on ready videos only: the clip transcoded meanwhile.
    wait_ready(api, host.token, vid)
    # Per member: progress, memo (+ checkpoint), a drawing of each kind, a snapshot.
    for user in (host, part):
        api.call("PUT", f"/videos/{vid}/progress", user.token, json={"progressRate": 10, "positionSeconds": 0.5})
        api.call("PUT", f"/videos/{vid}/text-memo", user.token, json={"stateJson": "{\"ops\":[]}", "videoTime": 0.25})
        api.call("POST", f"/videos/{vid}/text-memo/history", user.token)
        api.call("PUT", f"/videos/{vid}/drawings/page-1", user.token, json={"kind": "page", "document": {"strokes": []}})
        api.call("PUT", f"/videos/{vid}/drawings/overlay-1", user.token,
                 json={"kind": "overlay", "startSeconds": 0, "endSeconds": 0.5, "document": {"strokes": []}})
        w.add("snapshots", api.snapshot(user, vid, 0.5, "image/png"))
    w.add("drawings", "page-1", "overlay-1")

    return w


def seed_pass(api: Api, world: World, role: str) -> dict[str, list]:
    """The disposable resources one pass's destructive operations consume, and the role's own space."""
    host, part = world.users["host"], world.users["participant"]
    user = world.users.get(role)
    ids: dict[str, list] = {k: list(v) for k, v in world.ids.items()}

    def add(name: str, *values) -> None:
        bucket = ids.setdefault(name, [])
        bucket.extend(v for v in values if v not in bucket)

    # A space to delete, one to leave or be removed from, and one to hand over: the participant
    # is in all three.
    for name in ("spaces_doomed", "spaces_members", "spaces_handover"):
        sid = api.json("POST", "/spaces", host.token, json={"name": f"{role} {name}"})["spaceId"]
        api.call("POST", f"/spaces/{sid}/members", host.token, json={"email": part.email})
        add(name, sid)
    # A video to delete and one whose upload to abort, in the shared space.
    space = world.ids["spaces"][0]
    for name in ("videos_doomed", "videos_abortable"):
        v = api.json("POST", f"/spaces/{space}/videos", host.token,
                     json={"title": name, "fileName": "x.mp4", "contentType": "video/mp4", "sizeBytes": 3 * MULTIPART_THRESHOLD})
        add(name, v["videoId"])
    # The role's own drawing and snapshot to delete (a stranger has none on this video).
    vid = world.ids["videos"][0]
    if role in ("host", "participant"):
        api.call("PUT", f"/videos/{vid}/drawings/doomed-1", user.token, json={"kind": "page", "document": {}})
        add("drawings_doomed", "doomed-1")
        add("snapshots_doomed", api.snapshot(user, vid, 0.25, "image/jpeg"))
    else:
        add("drawings_doomed", "doomed-1")
        add("snapshots_doomed", *world.ids["snapshots"])
    # Whom the pass's user may add as a member: the invitee (201), a member (409), never a peer of
    # the object-level check (a stranger added to a space, or a host added to the stranger's,
    # would be a stranger no more).
    ids["emails"] = [world.users["invitee"].email, part.email, host.email] if role != "stranger" else [
        world.users["invitee"].email, world.users["stranger"].email]
    if user is not None:
        # The role's personal space too: a stranger then succeeds somewhere, and peers probe it.
        add("spaces", user.personal_space)
        add("users", user.user_id)
    return ids


# ---------------------------------------------------------------------------------------------
# schemathesis


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def toml_dump(data: dict) -> str:
    """Enough TOML for schemathesis.toml: top-level scalars, one level of tables and arrays of
    tables, anything deeper as inline tables."""
    lines: list[str] = []
    sections: list[str] = []
    for key, value in data.items():
        k = json.dumps(key)
        if isinstance(value, dict):
            sections.append(f"\n[{k}]")
            sections.extend(f"{json.dumps(ik)} = {toml_value(iv)}" for ik, iv in value.items())
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for item in value:
                sections.append(f"\n[[{k}]]")
                sections.extend(f"{json.dumps(ik)} = {toml_value(iv)}" for ik, iv in item.items())
        else:
            lines.append(f"{k} = {toml_value(value)}")
    return "\n".join(lines + sections).lstrip() + "\n"


def pass_config(role: str, ids: dict[str, list], wfc: Path, users: list[str]) -> dict:
    """schemathesis.toml with this pass's dictionaries, auth and peers filled in."""
    config = tomllib.loads(BASE_CONFIG.read_text())
    config.pop("vivid", None)
    config["dictionaries"] = {name: {"values": [str(v) for v in values]} for name, values in ids.items() if values}
    peers = [role, "stranger"] if role != "stranger" else ["stranger", "host"]
    config.setdefault("auth", {})["wfc"] = {"path": str(wfc), "user": role, "peers": [p for p in peers if p in users]}
    known = set(config["dictionaries"])

    def keep(bindings: dict) -> dict:
        return {k: v for k, v in bindings.items() if not isinstance(v, dict) or v.get("dictionary") in known}

    config["parameters"] = keep(config.get("parameters", {}))
    for op in config.get("operations", []):
        if "parameters" in op:
            op["parameters"] = keep(op["parameters"])
    return config


@dataclass
class PassResult:
    role: str
    cases: int = 0
    failures: int = 0  # cases that found at least one failure
    unique: int = 0
    errors: int = 0
    skipped: int = 0  # cases no check could judge
    exit_code: int = 0
    seconds: float = 0.0
    failure_lines: list[str] = field(default_factory=list)


@dataclass
class Pass:
    role: str
    out: Path
    args: list[str]
    env: dict[str, str]


def prepare_pass(role: str, api: Api, world: World, users: dict[str, User], examples: str | None) -> Pass:
    """Seeds what the pass consumes and writes its config, auth file and seed list."""
    out = OUT / role
    out.mkdir(parents=True, exist_ok=True)
    ids = seed_pass(api, world, role) if role != "account" else {k: list(v) for k, v in world.ids.items()}
    wfc = out / "auth.json"
    wfc.write_text(json.dumps({
        "auth": [
            {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {u.token}"}]}
            for name, u in users.items()
        ],
    }, indent=2))
    config = pass_config(role, ids, wfc, list(users))
    base = tomllib.loads(BASE_CONFIG.read_text()).get("vivid", {})
    include = base.get("account-operations", [])
    user_level = base.get("user-operations", []) if role in ("participant", "stranger") else []
    (out / "schemathesis.toml").write_text(toml_dump(config))
    (out / "seed.json").write_text(json.dumps(ids, indent=2))
    for old in [*out.glob("junit-*.xml"), *out.glob("ndjson-*.ndjson"), *out.glob("test_schemathesis_*.py"), out / "dropped.ndjson"]:
        old.unlink(missing_ok=True)
    args = [
        str(SCHEMATHESIS), "--config-file", str(out / "schemathesis.toml"), "--no-color", "run", str(DOCUMENT),
        "--url", api.base, "--seed", str(SEED),
        "--report", "junit,ndjson,pytest", "--report-dir", str(out),
    ]
    if role == "account":
        for op in include:
            args += ["--include-operation-id", op]
    else:
        for op in [*include, *user_level]:
            args += ["--exclude-operation-id", op]
    if examples:
        args += ["--max-examples", examples]
    args += shlex.split(os.environ.get("VIVID_SCHEMATHESIS_ARGS", ""))
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "hooks",
        "PYTHONPATH": str(HERE),
        "PYTHONDONTWRITEBYTECODE": "1",
        "VIVID_SCHEMATHESIS_SEEDED": str(out / "seed.json"),
        "VIVID_SCHEMATHESIS_ROLE": role,
        "VIVID_SCHEMATHESIS_DROPS": str(out / "dropped.ndjson"),
    }
    return Pass(role, out, args, env)


_print_lock = threading.Lock()


def run_pass(p: Pass) -> PassResult:
    """One `schemathesis run`; its output goes to the pass's output.txt and, whole, to stdout when
    it ends (passes run side by side)."""
    start = time.monotonic()
    result = PassResult(p.role)
    with open(p.out / "output.txt", "w") as transcript:
        result.exit_code = subprocess.run(p.args, cwd=p.out, env=p.env, stdout=transcript, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL).returncode
    result.seconds = time.monotonic() - start
    summarise(p.out, result)
    lines = [f"\n== pass `{p.role}` ({result.seconds:.0f} s): schemathesis run as {p.role}, {p.out}", (p.out / "output.txt").read_text()]
    drops = p.out / "dropped.ndjson"
    if drops.exists():
        counts: dict[tuple, int] = {}
        for line in drops.read_text().splitlines():
            d = json.loads(line)
            key = (d["rule"], d["operation"])
            counts[key] = counts.get(key, 0) + 1
        lines.append(f"   failures dropped as the contract ({drops}):")
        lines.extend(f"     {n:>4}  {operation}: {rule}" for (rule, operation), n in sorted(counts.items()))
    with _print_lock:
        log("\n".join(lines))
    return result


def summarise(out: Path, result: PassResult) -> None:
    """The counts of the CLI's `Test cases:` line: `G generated, F found U unique failures, E errored,
    S skipped` (or `G generated, G passed`)."""
    text = (out / "output.txt").read_text()
    lines = text.split("Test cases:")
    if len(lines) < 2:
        return
    line = lines[-1].strip().splitlines()[0]

    def number(pattern: str) -> int:
        m = re.search(pattern, line)
        return int(m.group(1)) if m else 0

    result.cases = number(r"(\d+) generated")
    result.failures = number(r"(\d+) found \d+ unique failure")
    result.unique = number(r"found (\d+) unique failure")
    result.errors = number(r"(\d+) errored")
    # Errors schemathesis met outside any one case (a schema it cannot generate from, a crash of its
    # own) appear only in its closing line: `== 3 failures, 1 error in 12.3s ==`.
    closing = [l for l in text.splitlines() if re.match(r"^=+ .* in [\d.]+s =+$", l)]
    if closing:
        m = re.search(r"(\d+) errors?\b", closing[-1])
        if m:
            result.errors = max(result.errors, int(m.group(1)))
    result.skipped = number(r"(\d+) skipped")


def main() -> int:
    passes = [p.strip() for p in (os.environ.get("VIVID_SCHEMATHESIS_PASSES") or ",".join(PASSES)).split(",") if p.strip()]
    unknown = [p for p in passes if p not in PASSES]
    if unknown:
        log(f"unknown pass(es) {unknown}: choose from {', '.join(PASSES)}")
        return 2
    examples = os.environ.get("VIVID_SCHEMATHESIS_EXAMPLES")
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    clip = make_clip()
    stack = LocalStack(clip)
    results: list[PassResult] = []
    try:
        stack.start()
        assert stack.base
        log(f"local stack at {stack.base} (log: {OUT / 'stack.log'})")
        api = Api(stack.base)
        t = time.monotonic()
        world = seed_world(api, clip)
        log(f"seeded in {time.monotonic() - t:.1f} s: " + ", ".join(f"{k} {len(v)}" for k, v in world.ids.items()))
        # Fresh access tokens (the local stack's last 15 minutes), then every pass's own seeds.
        world.users = {name: api.user(u.name, u.email) for name, u in world.users.items()}
        prepared = []
        for role in passes:
            users = {k: u for k, u in world.users.items() if k != "invitee"}
            if role == "account":
                # DELETE /users/me ends the account it runs as: a throwaway one, never the others.
                users = {"account": api.user("Tom Throwaway", "throwaway@example.com"), "stranger": world.users["stranger"]}
            prepared.append(prepare_pass(role, api, world, users, examples))
        # Passes side by side, each schemathesis with one worker: the passes share nothing a
        # destructive operation may take (hooks.py), and one process per lane keeps schemathesis's
        # threads (CPython 3.11 builds ASTs unsafely across them) out of the way.
        lanes = max(1, int(os.environ.get("VIVID_SCHEMATHESIS_LANES") or 2))
        log(f"{len(prepared)} passes, {lanes} at a time")
        with concurrent.futures.ThreadPoolExecutor(max_workers=lanes) as pool:
            results = list(pool.map(run_pass, prepared))
    except SeedError as e:
        log(f"ERROR {e}")
        return 1
    finally:
        stack.stop()
    total_cases = sum(r.cases for r in results)
    total_failures = sum(r.failures for r in results)
    log("\n== schemathesis, per pass")
    for r in results:
        log(f"  {r.role:<12} {r.cases:>6} cases  {r.failures:>4} failed ({r.unique} unique failures)  {r.errors:>3} errored"
            f"  {r.skipped:>4} skipped  exit {r.exit_code}  {r.seconds:6.1f} s")
    total_errors = sum(r.errors for r in results)
    total_skipped = sum(r.skipped for r in results)
    log(f"  total        {total_cases:>6} cases in {time.monotonic() - started:.0f} s (reports in {OUT})")
    failed_passes = [r.role for r in results if r.exit_code != 0]
    if failed_passes and not total_failures and not total_errors:
        log(f"  schemathesis exited non-zero in {', '.join(failed_passes)}: see {OUT}/<pass>/output.txt")
    passed = total_cases - total_failures - total_errors - total_skipped
    log(f"schemathesis: {passed} passed, {total_failures + total_errors} failed, {total_skipped} skipped")
    return 1 if failed_passes or len(results) < len(passes) else 0


if __name__ == "__main__":
    sys.exit(main())
