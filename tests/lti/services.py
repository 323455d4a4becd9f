"""An LMS's LTI Advantage services for the tool's tests, built on the platform library
`lti1p3platform` (PyPI, pinned 0.1.8 in scripts/venv.sh; https://pypi.org/project/lti1p3platform/):

- POST /token: the OAuth 2 client-credentials grant; the library's `get_access_token` verifies
  the tool's client assertion (RS256, by `kid`, against the tool's JWKS) and signs the access
  token with the platform's key. On top of the library (which does not check them) this checks
  what the IMS Security Framework 1.0 asks of the assertion: `iss` = `sub` = the client id,
  `aud` the token URL, `exp` in the future, a `jti` used once.
- GET /contexts/{ctx}/memberships: Names and Role Provisioning (the library's
  `NamesRoleProvisioningService.handle_get_members`, which checks the bearer token and its
  scope); its paging is put in a `Link: <...>; rel="next"` header, as NRPS 2.0 says (the library
  puts it in the body).
- GET and POST /contexts/{ctx}/lineitems, GET /contexts/{ctx}/lineitems/{id},
  POST /contexts/{ctx}/lineitems/{id}/scores: Assignment and Grade Services (the library's
  `AssignmentsGradesService`), line items and scores in memory.

The test drives it through /_test/...: POST /_test/tool {"clientId", "jwks"} registers the tool,
PUT /_test/contexts/{ctx}/members [...] sets a course's roster, GET /_test/scores and
GET /_test/lineitems read back what the tool posted, GET /_test/stats counts requests.

Run: python tests/lti/services.py [port]; the first line on stdout is its base URL.
"""

import json
import re
import sys
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import jwt
from jwcrypto.jwk import JWK
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
)

ISSUER = "https://lms.vivid.test"
LOCK = threading.Lock()
STATE: t.Dict[str, t.Any] = {
    "client_id": None,
    "jwks": None,
    "members": {},  # context id -> [member]
    "lineitems": {},  # line item id -> line item
    "scores": {},  # line item id -> [score]
    "jtis": set(),
    "stats": {"token": 0, "token_refused": 0, "membership_pages": 0, "scores": 0, "lineitems_made": 0},
}
KEY = JWK.generate(kty="RSA", size=2048)
PRIVATE_PEM = KEY.export_to_pem(private_key=True, password=None).decode()
PUBLIC_PEM = KEY.export_to_pem().decode()


class Platform(LTI1P3PlatformConfAbstract):
    """The platform's side of the registration of the tool."""

    def init_platform_config(self, **kwargs: t.Any) -> None:
        pass

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        with LOCK:
            return (
                Registration()
                .set_iss(ISSUER)
                .set_client_id(STATE["client_id"] or "")
                .set_platform_public_key(PUBLIC_PEM)
                .set_platform_private_key(PRIVATE_PEM)
                .set_tool_key_set(STATE["jwks"] or {"keys": []})
            )


def platform() -> Platform:
    p = Platform()
    p.get_registration()
    return p


class Req(Request):
    def build_metadata(self, request: t.Any) -> t.Any:
        return request


def page_args(query: t.Dict[str, str]) -> t.Dict[str, t.Any]:
    args: t.Dict[str, t.Any] = dict(query)
    for k in ("page", "limit"):
        if k in args:
            args[k] = int(args[k])
    return args


class Nrps(NamesRoleProvisioningService):
    def __init__(self, request: Request, url: str, context_id: str) -> None:
        super().__init__(request, platform(), url)
        self.context_id = context_id

    def get_context_by_id(self) -> Context:
        return Context(id=self.context_id, label=self.context_id, title=f"Course {self.context_id}")

    def get_member_data_page(self, page: int = 1, limit: t.Optional[int] = None, **_: t.Any) -> t.Any:
        with LOCK:
            members = list(STATE["members"].get(self.context_id, []))
            STATE["stats"]["membership_pages"] += 1
        if not limit:
            return {"content": members, "has_next": False}
        start = (page - 1) * limit
        return {"content": members[start : start + limit], "has_next": start + limit < len(members)}


class Ags(AssignmentsGradesService):
    def __init__(self, request: Request, base: str) -> None:
        super().__init__(request, platform(), f"{base}/lineitems")
        self.base = base

    def find_lineitems(self, page: int = 1, limit: t.Optional[int] = None, **query: t.Any) -> t.Any:
        resource_id = query.get("resource_id")
        with LOCK:
            items = [
                i
                for i in STATE["lineitems"].values()
                if i["id"].startswith(self.base + "/") and (resource_id is None or i.get("resourceId") == resource_id)
            ]
        return {"content": items, "has_next": False}

    def find_lineitem(self, line_item_id: str) -> t.Any:
        with LOCK:
            return STATE["lineitems"][line_item_id]

    def create_lineitem(self, creation_data: t.Any) -> t.Any:
        with LOCK:
            item = dict(creation_data)
            STATE["stats"]["lineitems_made"] += 1  # ids never reused, a deleted one's included
            item["id"] = f"{self.base}/lineitems/{STATE['stats']['lineitems_made']}"
            STATE["lineitems"][item["id"]] = item
            return item

    def update_lineitem(self, update_data: t.Any) -> t.Any:
        raise NotImplementedError

    def delete_lineitem(self, line_item_id: str) -> None:
        raise NotImplementedError

    def update_score(self, line_item_id: str, score: t.Any) -> UpdateScoreStatus:
        with LOCK:
            if line_item_id not in STATE["lineitems"]:
                from lti1p3platform.exceptions import LineItemNotFoundException

                raise LineItemNotFoundException()
            STATE["scores"].setdefault(line_item_id, []).append(score)
            STATE["stats"]["scores"] += 1
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id: str, page: int = 1, limit: t.Optional[int] = None, user_id: t.Any = None) -> t.Any:
        raise NotImplementedError


def check_assertion(assertion: str, token_url: str) -> t.Optional[str]:
    """What the library leaves unchecked in a client assertion; None when it holds."""
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as e:
        return f"unreadable assertion: {e}"
    client_id = STATE["client_id"]
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return "iss and sub must be the client id"
    aud = claims.get("aud")
    if token_url not in (aud if isinstance(aud, list) else [aud]):
        return "aud must be the token endpoint"
    if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
        return "expired"
    jti = claims.get("jti")
    with LOCK:
        if not jti or jti in STATE["jtis"]:
            return "jti missing or used before"
        STATE["jtis"].add(jti)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: t.Any) -> None:
        pass

    @property
    def base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, code: int, payload: t.Any, media: str = "application/json", headers: t.Optional[dict] = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def lib_request(self, query: t.Dict[str, str], raw: bytes) -> Req:
        ctype = self.headers.get("Content-Type") or ""
        return Req(
            {
                "method": self.command,
                "form_data": {},
                "get_data": page_args(query),
                "headers": self.headers,  # case-insensitive, as the library reads "Authorization"
                "content_type": ctype,
                "path": self.path,
                "json": json.loads(raw) if raw and "json" in ctype else None,
            }
        )

    def answer(self, call: t.Callable[[], t.Any]) -> None:
        from lti1p3platform.exceptions import LineItemNotFoundException, LtiException

        try:
            resp = call()
        except LineItemNotFoundException as e:  # before LtiException: it is one
            return self.reply(404, {"error": "not_found", "error_description": str(e)})
        except (LtiException, jwt.PyJWTError) as e:  # a bad token (issuer, signature, expiry)
            print(f"services: refused {self.command} {self.path}: {e!r}", file=sys.stderr, flush=True)
            return self.reply(401, {"error": "invalid_token", "error_description": str(e)})
        except Exception as e:  # a fault of this stand-in, not the tool's: never read as a refusal
            print(f"services: failed {self.command} {self.path}: {e!r}", file=sys.stderr, flush=True)
            return self.reply(500, {"error": "server_error", "error_description": repr(e)[:200]})
        payload, headers = resp.result, {}
        if isinstance(payload, dict) and "content" in payload and "has_next" in payload:
            if payload.get("next"):
                headers["Link"] = f'<{payload["next"]}>; rel="next"'
            payload = payload["content"]
        elif isinstance(payload, dict) and payload.get("next"):
            headers["Link"] = f'<{payload.pop("next")}>; rel="next"'
        if resp.code >= 400:
            payload = {"error": resp.message}
        self.reply(resp.code, payload, resp.media_type, headers)

    def route(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, dict(parse_qsl(parts.query))
        raw = self.body()
        if path == "/token" and self.command == "POST":
            return self.token(raw)
        if path == "/_test/tool" and self.command == "POST":
            spec = json.loads(raw)
            with LOCK:
                STATE["client_id"], STATE["jwks"] = spec["clientId"], spec["jwks"]
            return self.reply(200, {"issuer": ISSUER, "tokenUrl": f"{self.base}/token"})
        m = re.fullmatch(r"/_test/contexts/([^/]+)/members", path)
        if m and self.command == "PUT":
            with LOCK:
                STATE["members"][m.group(1)] = json.loads(raw)
            return self.reply(200, {})
        if path == "/_test/lineitems" and self.command == "DELETE":  # the instructor deletes a column
            with LOCK:
                STATE["lineitems"].pop(json.loads(raw)["id"], None)
            return self.reply(204, None)
        if path in ("/_test/scores", "/_test/lineitems", "/_test/stats") and self.command == "GET":
            with LOCK:
                return self.reply(200, STATE[path.rsplit("/", 1)[1]])
        m = re.fullmatch(r"/contexts/([^/]+)/memberships", path)
        if m:
            svc = Nrps(self.lib_request(query, raw), f"{self.base}{path}", m.group(1))
            return self.answer(svc.handle_get_members)
        m = re.fullmatch(r"/contexts/([^/]+)(/lineitems(?:/(\d+)(/scores)?)?)", path)
        if m:
            ctx_base = f"{self.base}/contexts/{m.group(1)}"
            svc = Ags(self.lib_request(query, raw), ctx_base)
            item = f"{ctx_base}/lineitems/{m.group(3)}" if m.group(3) else None
            if item and m.group(4):
                return self.answer(lambda: svc.handle_update_score(item))
            if item:
                return self.answer(lambda: svc.handle_get_lineitem(item))
            if self.command == "POST":
                return self.answer(svc.handle_create_lineitem)
            return self.answer(svc.handle_get_lineitems)
        self.reply(404, {"error": "not found"})

    def token(self, raw: bytes) -> None:
        form = dict(parse_qsl(raw.decode()))
        problem = check_assertion(form.get("client_assertion", ""), f"{self.base}/token")
        try:
            if problem:
                raise ValueError(problem)
            answer = platform().get_access_token(form)
        except Exception as e:  # a refused assertion: RFC 6749 §5.2
            with LOCK:
                STATE["stats"]["token_refused"] += 1
            return self.reply(401, {"error": "invalid_client", "error_description": str(e)[:200]})
        with LOCK:
            STATE["stats"]["token"] += 1
        self.reply(200, answer)

    do_GET = do_POST = do_PUT = do_DELETE = route


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
