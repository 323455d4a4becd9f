"""Seeding through the API only, signing users in as a client does: the world every pass shares
(a host, a participant, a stranger and an invitee; a space with a READY video and a multipart
upload left open; notes, drawings and snapshots; Webex and Zoom connected; refresh and ID
tokens), and per pass the disposable resources its destructive operations consume (hooks.py
keeps them off the shared ones)."""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import requests

from runner.config import MULTIPART_THRESHOLD


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
    meetings = api.json("GET", "/zoom/recordings", host.token)["items"]
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
