"""schemathesis hooks for the VIVID passes (loaded with SCHEMATHESIS_HOOKS=hooks by run.py).

Two hooks keep the seeded world alive for the whole run; they change no check and drop no case. A
pass runs every operation three or four times over (coverage, fuzzing, stateful), and
ids travel between operations (dictionaries, ids schemathesis takes from earlier responses), so a
destructive operation would otherwise draw the shared space, the READY video or the participant's
membership early on and leave every later case a 404 -- testing nothing. So:

- `before_call`: a destructive operation aimed at a seeded resource every pass shares is sent to a
  disposable twin of the same kind, seeded for this pass (runner/seed.py `seed_pass`): the same request, a
  different id of the same shape (a ULID for a ULID, a drawing id for a drawing id), so a case
  keeps its positive or negative nature.
- `after_call`: a Webex or Zoom disconnect that succeeded is followed by connecting again (the
  flow a browser follows), so the list and import operations still see a connected account. It
  also notes every cursor and OAuth state the API hands out, for the next hook.

One hook drops failures, and only these, each a rejection SPEC section 7 or RFC 9110 prescribes
for a request no JSON Schema can tell from a good one (tests/schemathesis/FINDINGS.md lists them
under "Accepted as the contract"; schemathesis prints each drop):

- `filter_failure`: "schema-valid request rejected" (ST202) when the API answered
  - 400 `invalid_cursor` / `cursor_expired` to a cursor it never issued for that operation, path
    and caller (a cursor is signed and bound to its query: a forged one is a 400, SPEC section 7);
  - 400 `invalid_state` to an OAuth `state` it never issued (the sign-in and connect flows'
    CSRF binding), and likewise to an LTI launch `state`, a registration `invite` or a
    `deepLinkId` it never issued (one-time values the tool hands out);
  - 400 `invalid_code` to an LTI launch code (`POST /lti/session`) it never issued, and 400
    `unknown_platform` / `unknown_deployment` to an LTI login or launch from an LMS nobody
    registered (the registrations decide, which no schema knows);
  - 422 `invalid_placement` to a drawing that ends after the video does (the stored duration
    decides, which no schema knows);
  - 422 `invalid_placement` to an overlay whose `startSeconds` is not below its `endSeconds`, and
    400 `invalid_range` to recordings asked for with `from` after `to` or more than 366 days
    apart: rules between two fields, which JSON Schema cannot state;
  - 412 `precondition_failed` to a request whose `If-Match` / `If-None-Match` is false for the
    memo as it stands (RFC 9110 section 13.1: the state, not the request's shape, decides);
  - 422 `invalid_parts` to part numbers past the upload's part count (its `sizeBytes` decided
    it) or to one part number with two ETags, and 422 `upload_rejected` to parts S3 does not
    hold for the upload (S3 decides);
  - 422 `invalid_chapters` to chapters of which two start at the same millisecond or one at or
    after the video's end (a rule between items; the stored duration decides);
  - 422 `invalid_captions` to a caption upload that is no well-formed WebVTT or SRT (a text
    format with its own grammar, which JSON Schema cannot state);
  - 422 `invalid_expiry` to an invitation whose `expiresAt` is not in the future or more than
    180 days ahead (the clock decides, which no schema knows);
  - 422 `invalid_watch_report` to a watching report with an interval past the video's end (the
    stored duration decides), one not ending after its start, or intervals claiming more than
    120 s of wall time together (a sum over items), and 422 `faster_than_the_clock` (the
    server's clock and the reports before decide);
  - 400 `invalid_precondition` to an `If-Match` outside the documented pattern (an entity-tag
    is quoted, RFC 9110 section 8.8.3; schemathesis's coverage phase sends header values
    without applying the pattern).
  - 422 `invalid_body` to a video's visibility change that breaks its rule between two fields
    (`publishAt` with `scheduled` only, and `scheduled` with it) or the clock's (`publishAt` from
    1970 on, at most 366 days ahead);
- and "created resource not found" (ST302) on `POST /spaces/{spaceId}/members` when the 404 is
  the e-mail's unknown user (SPEC section 2), on the Webex and Zoom imports
  (`POST /spaces/{spaceId}/videos/{webex,zoom}`) when it is the body's unknown recording, and on
  `POST /spaces/{spaceId}/lti/roster-sync` when it is the LMS course a space made by
  `POST /spaces` is not linked to, and on `POST /spaces/{spaceId}/transfer` when it is the body's
  user who is no member — not the space the previous step created.
Each drop is written to the pass's `dropped.ndjson`; run.py prints them counted by rule.

And one serializer: SRT (`application/x-subrip`, a body of the caption route with its example in
the document) goes on the wire as text, as schemathesis sends `text/*` types.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import os
import threading
import urllib.parse

import requests
import schemathesis

# The caption route takes SRT as `application/x-subrip` (docs/openapi.yaml, with an example each
# body): it is text, sent as text; schemathesis serializes `text/*` types alone by itself.
schemathesis.serializer.alias("application/x-subrip", "text/plain")

_SEEDED = json.loads(open(os.environ["VIVID_SCHEMATHESIS_SEEDED"]).read()) if os.environ.get("VIVID_SCHEMATHESIS_SEEDED") else {}


def _ids(name: str) -> list[str]:
    return [str(v) for v in _SEEDED.get(name, [])]


# operation label -> [(path parameter, the shared ids it must not consume, the disposable twin)]
_PROTECT = {
    "DELETE /spaces/{spaceId}": [("spaceId", _ids("spaces") + _ids("spaces_members"), "spaces_doomed")],
    # A participant leaving (or the host removing them from) the shared space would end the
    # participant's access for the rest of the run.
    "DELETE /spaces/{spaceId}/members/{userId}": [("spaceId", _ids("spaces") + _ids("spaces_doomed"), "spaces_members")],
    # A hand-over of the shared space would leave the host a co-host for the rest of the run.
    "POST /spaces/{spaceId}/transfer": [
        ("spaceId", _ids("spaces") + _ids("spaces_members") + _ids("spaces_doomed"), "spaces_handover"),
    ],
    "DELETE /videos/{videoId}": [("videoId", _ids("videos") + _ids("videos_abortable"), "videos_doomed")],
    "DELETE /videos/{videoId}/upload": [("videoId", _ids("videos") + _ids("videos_doomed"), "videos_abortable")],
    "DELETE /videos/{videoId}/drawings/{drawingId}": [("drawingId", _ids("drawings"), "drawings_doomed")],
    "DELETE /videos/{videoId}/snapshots/{snapshotId}": [("snapshotId", _ids("snapshots"), "snapshots_doomed")],
}


@schemathesis.hook
def before_call(context, case, kwargs):
    rules = _PROTECT.get(case.operation.label)
    if not rules or not isinstance(case.path_parameters, dict):
        return
    for name, shared, twin in rules:
        value = case.path_parameters.get(name)
        twins = _ids(twin)
        if isinstance(value, str) and value in shared and twins:
            case.path_parameters[name] = twins[0]


_reconnect_lock = threading.Lock()


_issued_lock = threading.Lock()
_issued_cursors: set[tuple] = set()  # (operation label, path parameters, authorization, cursor)
_issued_states: set[str] = set()


def _authorization(headers) -> str:
    return headers.get("authorization") or headers.get("Authorization") or ""


def _path_key(case) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in (case.path_parameters or {}).items()))


def _note_issued(case, response) -> None:
    """Cursors (`nextCursor`) and OAuth states (in a redirect or an `authorizeUrl`) the API issued."""
    found_state = []
    location = response.headers.get("location")
    if location:
        found_state.append(location[0] if isinstance(location, list) else location)
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        # URLs that carry a one-time value: a sign-in's `authorizeUrl`, a registration
        # invitation's URL.
        found_state.extend(v for v in body.values() if isinstance(v, str) and v.startswith("http"))
        cursor = body.get("nextCursor")
        if isinstance(cursor, str):
            with _issued_lock:
                _issued_cursors.add((case.operation.label, _path_key(case), _authorization(response.request.headers), cursor))
    for url in found_state:
        parts = urllib.parse.urlsplit(url)
        issued = urllib.parse.parse_qs(parts.query)
        fragment = urllib.parse.parse_qs(parts.fragment)
        for name, values in [*issued.items(), *fragment.items()]:
            if name in ("state", "invite", "ltiCode", "deepLinkId"):
                with _issued_lock:
                    _issued_states.update(values)


@schemathesis.hook
def after_call(context, case, response):
    _note_issued(case, response)
    label = case.operation.label
    if label not in ("DELETE /webex/token", "DELETE /zoom/token") or response.status_code != 204:
        return
    authorization = response.request.headers.get("authorization") or response.request.headers.get("Authorization")
    if not authorization:
        return
    platform = label.split("/")[1]
    base = response.request.url.split(f"/{platform}/")[0]
    with _reconnect_lock:
        _connect(base, platform, authorization)


def _connect(base: str, platform: str, authorization: str) -> None:
    http = requests.Session()
    login = http.get(f"{base}/{platform}/login", headers={"authorization": authorization}, timeout=30)
    if login.status_code != 200:
        return
    redirect = http.get(login.json()["authorizeUrl"], allow_redirects=False, timeout=30)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect.headers.get("location", "")).query)
    if "code" in q and "state" in q:
        http.post(f"{base}/{platform}/token", headers={"authorization": authorization},
                  json={"code": q["code"][0], "state": q["state"][0]}, timeout=30)


def _problem_code(response) -> str | None:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, TypeError):
        return None
    return body.get("code") if isinstance(body, dict) else None


def _problem_detail(response) -> str:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, TypeError):
        return ""
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else ""


def _parse_day(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _range_rule_broken(query: dict) -> bool:
    """`from` after `to`, or more than 366 days apart (`to` defaults to today, `from` to 29 days
    before `to`)."""
    today = dt.datetime.now(dt.timezone.utc).date()
    to = _parse_day(query.get("to")) if "to" in query else today
    if to is None:
        return False
    start = _parse_day(query.get("from")) if "from" in query else to - dt.timedelta(days=29)
    if start is None:
        return False
    return start > to or (to - start).days > 366


def _aware_time(value) -> dt.datetime | None:
    """An RFC 3339 date-time with its offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _expiry_out_of_range(value) -> bool:
    """An invitation's `expiresAt` that is not in the future or lies more than 180 days ahead."""
    at = _aware_time(value)
    if at is None:
        return False
    now = dt.datetime.now(dt.timezone.utc)
    return at <= now or at > now + dt.timedelta(days=180)


def _visibility_rule_broken(body: dict, detail: str) -> str | None:
    """A video's visibility change the API refuses by a rule between two fields, or by the clock:
    `publishAt` goes with `scheduled` only, `scheduled` needs it, and it lies from 1970 on and at
    most 366 days ahead. Checked against the body, not taken from the answer."""
    visibility, at = body.get("visibility"), body.get("publishAt")
    if at is not None and visibility != "scheduled":
        return "publishAt without visibility scheduled (two fields)"
    if visibility == "scheduled" and at is None:
        return "visibility scheduled without publishAt (two fields)"
    if visibility == "scheduled" and "366 days ahead" in detail:
        when = _aware_time(at)
        if when is None:
            return None
        now = dt.datetime.now(dt.timezone.utc)
        if when < dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) or when > now + dt.timedelta(days=366):
            return "publishAt before 1970 or over 366 days ahead (the clock decides)"
    return None


# docs/openapi.yaml's If-Match pattern.
_IF_MATCH = re.compile(r'[ \t]*(\*|W/"[^"]*"|"[0-9]{1,20}")[ \t]*')


def _by_contract(case, response) -> str | None:
    """The rule (module docstring) that makes the API's rejection of this schema-valid request the
    contract, or None."""
    code = _problem_code(response)
    status = response.status_code
    query = case.query if isinstance(case.query, dict) else {}
    body = case.body if isinstance(case.body, dict) else {}
    if status == 400 and code in ("invalid_cursor", "cursor_expired") and isinstance(query.get("cursor"), str):
        key = (case.operation.label, _path_key(case), _authorization(response.request.headers), query["cursor"])
        with _issued_lock:
            return "cursor not issued for this query" if key not in _issued_cursors else None
    if status == 400 and code == "invalid_state":
        state = query.get("state", query.get("invite", body.get("state", body.get("deepLinkId"))))
        with _issued_lock:
            return "OAuth state not issued" if isinstance(state, str) and state not in _issued_states else None
    if status == 400 and code == "invalid_code" and case.operation.label == "POST /lti/session":
        with _issued_lock:
            return "LTI launch code not issued" if body.get("code") not in _issued_states else None
    if status == 400 and code in ("unknown_platform", "unknown_deployment") and case.operation.label in (
        "GET /lti/login", "POST /lti/login", "POST /lti/launch",
    ):
        return "LMS not registered (the registrations decide)"
    if status == 422 and code == "invalid_placement" and "the video's end" in _problem_detail(response):
        return "drawing past the video's end (its duration decides)"
    if status == 422 and code == "invalid_placement" and body.get("kind") == "overlay":
        start, end = body.get("startSeconds"), body.get("endSeconds")
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end))
        return "overlay with startSeconds >= endSeconds" if numbers and not start < end else None
    if status == 400 and code == "invalid_range" and case.operation.label in ("GET /zoom/recordings", "GET /users/me/recordings"):
        return "recordings range from > to or over 366 days" if _range_rule_broken(query) else None
    if status == 422 and code == "invalid_parts" and case.operation.label == "POST /videos/{videoId}/upload/parts":
        # "… numbers from 1 to N": N is the upload's part count, which its size decided.
        most = re.search(r"from 1 to ([0-9]+)", _problem_detail(response))
        numbers = body.get("partNumbers")
        if most and isinstance(numbers, list) and any(isinstance(n, (int, float)) and n > int(most[1]) for n in numbers):
            return "part number past the upload's parts (its size decides)"
    if status == 422 and code == "invalid_parts" and case.operation.label == "POST /videos/{videoId}/upload/complete":
        parts = body.get("parts")
        seen: dict = {}
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, dict) and seen.setdefault(part.get("partNumber"), part.get("etag")) != part.get("etag"):
                return "one part number with two ETags (a rule between items, which JSON Schema cannot state)"
    if status == 422 and code == "upload_rejected" and case.operation.label == "POST /videos/{videoId}/upload/complete":
        return "parts S3 does not hold (S3 decides: part numbers and ETags of the upload)"
    if status == 400 and code == "invalid_precondition":
        headers = {k.lower(): v for k, v in (case.headers or {}).items()}
        if not all(_IF_MATCH.fullmatch(v) for k, v in headers.items() if k == "if-match" and isinstance(v, str)):
            return "If-Match outside its documented pattern (schemathesis generates header values without it)"
    if status == 422 and code == "invalid_chapters" and case.operation.label == "PATCH /videos/{videoId}":
        return "chapters starting twice at one millisecond or past the video's end (between items; the duration decides)"
    if status == 422 and code == "invalid_body" and case.operation.label == "PATCH /videos/{videoId}":
        return _visibility_rule_broken(body, _problem_detail(response))
    if status == 422 and code == "invalid_captions" and case.operation.label == "PUT /videos/{videoId}/captions/{lang}":
        return "caption file that is no well-formed WebVTT or SRT (a grammar of its own)"
    if status == 422 and code == "invalid_expiry" and case.operation.label == "POST /spaces/{spaceId}/invitations":
        if _expiry_out_of_range(body.get("expiresAt")):
            return "invitation expiry not in the future or over 180 days ahead (the clock decides)"
    if status == 422 and case.operation.label == "POST /videos/{videoId}/watching":
        if code == "faster_than_the_clock":
            return "watching report faster than the clock (the server's clock and the reports before decide)"
        if code == "invalid_watch_report":
            return _watch_rule_broken(body, _problem_detail(response))
    if status == 412 and code == "precondition_failed":
        headers = {k.lower(): v for k, v in (case.headers or {}).items()}
        if "if-match" in headers or "if-none-match" in headers:
            return "412 to a precondition that is false (RFC 9110 13.1)"
    return None


def _watch_rule_broken(body: dict, detail: str) -> str | None:
    """The rule a schema-valid watching report broke, when it is one no schema states: an
    interval past the video's end (its stored duration decides), one not ending after its start
    (two fields), or a report claiming more than 120 s of wall time (a sum over the intervals)."""
    if "past the video's end" in detail:
        return "watching interval past the video's end (its duration decides)"
    intervals = body.get("intervals")
    if not isinstance(intervals, list):
        return None
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    spans = [(i.get("start"), i.get("end"), i.get("rate")) for i in intervals if isinstance(i, dict)]
    if any(number(a) and number(b) and not a < b for a, b, _ in spans):
        return "watching interval not ending after its start (two fields)"
    wall = sum((b - a) / r for a, b, r in spans if number(a) and number(b) and number(r) and r > 0)
    if wall > 120:
        return "watching report claiming more than 120 s of wall time (a sum over the intervals)"
    return None


_DROPS = os.environ.get("VIVID_SCHEMATHESIS_DROPS")
_drops_lock = threading.Lock()


def _unknown_user(case, response) -> str | None:
    """ST302 ("created resource not found") on adding a member: the 404 names the e-mail's user,
    not the space just created (SPEC section 2: `404 unknown user`). The check reads only path and
    query parameters, so a 404 caused by the body looks like a lost space to it."""
    if response.status_code != 404 or case.operation.label not in (
        "POST /spaces/{spaceId}/members", "POST /spaces/{spaceId}/videos/webex", "POST /spaces/{spaceId}/videos/zoom",
        "POST /spaces/{spaceId}/lti/roster-sync", "POST /spaces/{spaceId}/transfer",
    ):
        return None
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, TypeError):
        return None
    if not isinstance(body, dict):
        return None
    detail = str(body.get("detail"))
    unknown = detail == "user not found" or detail.startswith("no account has this e-mail address")
    if case.operation.label.endswith("/members") and (body.get("code") == "user_not_found" or unknown):
        return "404 for the e-mail's unknown user, not the new space"
    if case.operation.label.endswith(("/webex", "/zoom")) and body.get("detail") == "recording not found":
        return "404 for the body's unknown recording, not the new space"
    if case.operation.label.endswith("/roster-sync") and "linked to no LMS course" in str(body.get("detail")):
        return "404 for the LMS course a new space is not linked to, not the new space"
    if case.operation.label == "POST /spaces/{spaceId}/transfer" and body.get("detail") == "member not found":
        return "404 for the body's user who is no member, not the new space"
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if failure.code == "ST202":
        rule = _by_contract(case, response)
    elif failure.code == "ST302":
        rule = _unknown_user(case, response)
    else:
        rule = None
    if rule is None:
        return True
    if _DROPS:
        line = json.dumps({"rule": rule, "operation": case.operation.label, "status": response.status_code,
                           "code": _problem_code(response)})
        with _drops_lock, open(_DROPS, "a") as out:
            out.write(line + "\n")
    return False
