"""An LMS for the tool's launch tests, built on the platform library `lti1p3platform` (PyPI,
pinned 0.1.8 in scripts/venv.sh; https://pypi.org/project/lti1p3platform/): the library builds
and signs the launches (its `LTIAdvantageMessageLaunchAbstract`: the OIDC login initiation URL,
the check of the tool's authentication request, the ID token with the user, roles, context,
custom, deep-linking, NRPS and AGS claims) and verifies the tool's deep-linking responses (its
`validate_deeplinking_resp`, against the tool's JWKS fetched from its jwks_uri).

LTI Dynamic Registration 1.0 (the library has none) is the platform side written here as the IMS
specification says: GET /.well-known/openid-configuration (the platform's OpenID configuration
with its LTI platform configuration), POST /register (the tool's configuration, with the
registration token as a bearer token) answering the client id and the deployment id.

Routes the tool reaches: /.well-known/openid-configuration, /register, /jwks, /auth (the OIDC
authentication request: answers the launch as JSON `{action, id_token, state}`, what the form
post a browser would send holds; to a browser, whose navigation accepts text/html, the page a
real LMS answers: a form posting them to the tool's launch URL, submitted at once),
/deep-link-return (the deep-linking response: verified, kept).

A browser's course page: GET /course/<hint> (HTML) frames the tool's login initiation URL for that
launch as an LMS shows a tool in a course: an iframe with `allow="autoplay; fullscreen"`, no
`sandbox`, on this platform's own site (127.0.0.1), another site than the tool's.

The test drives it through /_test/...:
  GET  /_test/registration-start?tool=<tool's registration URL>  the URL an admin's browser opens
  PUT  /_test/hints/<hint> {...}  what the launch for login_hint <hint> holds: user, roles,
       context, deep_linking, custom, target, nrps (the NRPS claim's context_memberships_url;
       this platform's own, which it does not serve, by default), and `tamper` ({aud, azp, iss,
       exp, nonce, deployment, kid}) re-signing the library's token with claims changed (kid
       "unknown": by a key the platform does not publish, under its own kid; "forged": by that
       key under the kid of the platform's published key)
  GET  /_test/login-url?hint=<hint>  the tool's login initiation URL for that launch
  GET  /_test/deep-links  the deep-linking responses received: their content items
  GET  /_test/registration  what the tool registered
  PUT  /_test/jwks-path {"path": "/keys-moved"}  where the configuration says the keys are (the
       same keys are served there): a platform that names other keys for its issuer
  PUT  /_test/jwks-status {"status": 500}  what the key set answers (200 serves the keys)
  PUT  /_test/token-endpoint {"url": ...}  the token endpoint the configuration names (a tool
       registered after it calls that one: tests/lti/services.py's)

Run: python tests/lti/platform.py; the first line on stdout is its base URL.
"""

import html
import json
import secrets
import sys
import threading
import typing as t
from types import SimpleNamespace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from jwcrypto.jwk import JWK
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration

LOCK = threading.Lock()
KEY = JWK.generate(kty="RSA", size=2048, kid="platform-key-1")
OTHER = JWK.generate(kty="RSA", size=2048, kid="not-published")
DEPLOYMENT = "deployment-1"
STATE: t.Dict[str, t.Any] = {
    "base": "",
    "registration": None,
    "tokens": set(),
    "hints": {},
    "deep_links": [],
    "jwks_path": "/jwks",
    "jwks_status": 200,
    "token_endpoint": None,
}


class KeyedRegistration(Registration):
    """The library's registration, naming the platform key by its `kid` (the library reads the
    kid off the PEM, which carries none)."""

    def get_kid(self) -> t.Optional[str]:
        return KEY.key_id

    def get_jwks(self) -> t.List[t.Dict[str, t.Any]]:
        return [dict(json.loads(KEY.export_public()), alg="RS256", use="sig")]


def registration() -> Registration:
    tool = STATE["registration"]
    if tool is None:
        raise LookupError("no tool registered")
    return (
        KeyedRegistration()
        .set_iss(STATE["base"])
        .set_client_id(tool["client_id"])
        .set_deployment_id(DEPLOYMENT)
        .set_oidc_login_url(tool["initiate_login_uri"])
        .set_launch_url(tool["target_link_uri"])
        .set_deeplink_launch_url(tool["target_link_uri"])
        .set_platform_public_key(KEY.export_to_pem().decode())
        .set_platform_private_key(KEY.export_to_pem(private_key=True, password=None).decode())
        .set_tool_key_set_url(tool["jwks_uri"])
    )


class Platform(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: t.Any) -> None:
        pass

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        return registration()


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: t.Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: t.Dict[str, t.Any], **kwargs: t.Any) -> t.Dict[str, t.Any]:
        return {"action": launch_data["launch_url"], "id_token": launch_data["id_token"], "state": launch_data["state"]}


def retamper(id_token: str, tamper: t.Dict[str, t.Any]) -> str:
    """The library's token with claims changed, signed again (by an unpublished key for
    `kid: unknown`, and by it under the published key's kid for `kid: forged`)."""
    claims = jwt.decode(id_token, options={"verify_signature": False})
    for name in ("aud", "azp", "iss", "exp", "nonce"):
        if name in tamper:
            claims[name] = tamper[name]
    if "dl_data" in tamper:
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]["data"] = tamper["dl_data"]
    if "deployment" in tamper:
        claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = tamper["deployment"]
    key = OTHER if tamper.get("kid") in ("unknown", "forged") else KEY
    kid = KEY.key_id if tamper.get("kid") == "forged" else key.key_id
    pem = key.export_to_pem(private_key=True, password=None)
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})


def launch(query: t.Dict[str, str]) -> t.Dict[str, t.Any]:
    """The library's answer to the tool's authentication request."""
    hint = STATE["hints"].get(query.get("lti_message_hint", ""))
    if hint is None or query.get("login_hint") != hint["user"]:
        raise LookupError("unknown login or message hint")
    if query.get("scope") != "openid" or query.get("response_type") != "id_token":
        raise ValueError("not an OIDC implicit id_token request")
    if query.get("response_mode") != "form_post" or query.get("prompt") != "none":
        raise ValueError("response_mode must be form_post and prompt none")
    tool = STATE["registration"]
    if query.get("redirect_uri") not in tool["redirect_uris"]:
        raise ValueError("redirect_uri is not one the tool registered")
    request = SimpleNamespace(method="GET", get_data=query, form_data={})
    msg = Launch(request, Platform())
    msg.set_user_data(hint["user"], hint["roles"], full_name=hint.get("name"))
    msg.set_launch_context_claim(hint.get("context", "course-1"), context_title=hint.get("title", "Physics 101"))
    msg.set_resource_link_claim(hint.get("resource_link", "link-1"))
    if hint.get("custom"):
        msg.set_custom_parameters_claim(hint["custom"])
    if hint.get("target"):
        msg.set_launch_url(hint["target"])
    msg.set_nrps(hint.get("nrps") or f"{STATE['base']}/contexts/{hint.get('context', 'course-1')}/memberships")
    msg.set_ags(f"{STATE['base']}/contexts/{hint.get('context', 'course-1')}/lineitems")
    if hint.get("deep_linking"):
        msg.set_dl(f"{STATE['base']}/deep-link-return")
    answer = msg.lti_launch()
    tamper = dict(hint.get("tamper") or {})
    if hint.get("data"):
        tamper["dl_data"] = hint["data"]
    if tamper:
        answer["id_token"] = retamper(answer["id_token"], tamper)
    return answer


def login_url(hint_name: str) -> str:
    """The tool's login initiation URL for the launch of login hint `hint_name` (the library's)."""
    hint = STATE["hints"][hint_name]
    login = Login(SimpleNamespace(method="GET"), Platform())
    login.set_lti_message_hint(hint=hint_name)
    if hint.get("target"):
        login.set_launch_url(hint["target"])
    return login.prepare_preflight_url(hint["user"])


def launch_page(form: t.Dict[str, t.Any]) -> str:
    """What an LMS answers a browser's authentication request with: the ID token and state in a
    form posted to the tool's launch URL at once."""
    fields = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(form[name])}">' for name in ("id_token", "state")
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Launching VIVID</title>'
        '<link rel="icon" href="data:,"></head><body>'
        f'<form id="launch" method="post" action="{html.escape(form["action"])}">{fields}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.getElementById('launch').submit()</script></body></html>"
    )


def course_page(hint_name: str) -> str:
    """A course page showing the tool: the login initiation URL for `hint_name` in an iframe."""
    hint = STATE["hints"][hint_name]
    title = html.escape(hint.get("title", "Physics 101"))
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title><link rel="icon" href="data:,">'
        "</head><body>"
        f'<h1 id="course">{title}</h1>'
        f'<iframe id="tool" title="VIVID" src="{html.escape(login_url(hint_name))}" width="1200" height="800" '
        'allow="autoplay; fullscreen"></iframe></body></html>'
    )


def configuration() -> t.Dict[str, t.Any]:
    base = STATE["base"]
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/auth",
        "token_endpoint": STATE["token_endpoint"] or f"{base}/token",
        "jwks_uri": f"{base}{STATE['jwks_path']}",
        "registration_endpoint": f"{base}/register",
        "scopes_supported": ["openid"],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "lti1p3platform",
            "version": "0.1.8",
            "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
        },
    }


def register(tool: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
    """The registration endpoint: the tool's configuration as the specification names it."""
    lti = tool.get("https://purl.imsglobal.org/spec/lti-tool-configuration") or {}
    for name in ("initiate_login_uri", "redirect_uris", "jwks_uri"):
        if not tool.get(name):
            raise ValueError(f"the tool configuration has no {name}")
    if tool.get("token_endpoint_auth_method") != "private_key_jwt" or lti.get("target_link_uri") is None:
        raise ValueError("token_endpoint_auth_method private_key_jwt and target_link_uri are required")
    client_id = "client-" + secrets.token_hex(4)
    STATE["registration"] = {
        "client_id": client_id,
        "initiate_login_uri": tool["initiate_login_uri"],
        "redirect_uris": tool["redirect_uris"],
        "jwks_uri": tool["jwks_uri"],
        "target_link_uri": lti["target_link_uri"],
        "tool": tool,
    }
    answer = dict(tool, client_id=client_id)
    answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = dict(lti, deployment_id=DEPLOYMENT)
    return answer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: t.Any) -> None:
        pass

    def answer(self, status: int, body: t.Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def page(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.send_header("cache-control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def browser(self) -> bool:
        """A browser's navigation (it accepts HTML); the tests' own requests ask for none."""
        return "text/html" in (self.headers.get("accept") or "")

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        with LOCK:
            try:
                if url.path == "/.well-known/openid-configuration":
                    return self.answer(200, configuration())
                if url.path in ("/jwks", STATE["jwks_path"]) and STATE["jwks_status"] != 200:
                    return self.answer(STATE["jwks_status"], {"error": "the key set is unavailable"})
                if url.path in ("/jwks", STATE["jwks_path"]):
                    return self.answer(200, {"keys": KeyedRegistration().get_jwks()})
                if url.path == "/auth" and self.browser():
                    return self.page(200, launch_page(launch(query)))
                if url.path == "/auth":
                    return self.answer(200, launch(query))
                if url.path.startswith("/course/"):
                    return self.page(200, course_page(url.path.removeprefix("/course/")))
                if url.path == "/_test/registration-start":
                    token = secrets.token_urlsafe(16)
                    STATE["tokens"].add(token)
                    cfg = f"{STATE['base']}/.well-known/openid-configuration"
                    sep = "&" if "?" in query["tool"] else "?"
                    params = urlencode({"openid_configuration": cfg, "registration_token": token})
                    return self.answer(200, {"url": f"{query['tool']}{sep}{params}"})
                if url.path == "/_test/login-url":
                    return self.answer(200, {"url": login_url(query["hint"])})
                if url.path == "/_test/deep-links":
                    return self.answer(200, STATE["deep_links"])
                if url.path == "/_test/registration":
                    return self.answer(200, STATE["registration"])
            except Exception as e:  # noqa: BLE001 - every refusal is the test's answer
                return self.answer(400, {"error": f"{type(e).__name__}: {e}"})
        self.answer(404, {"error": "not found"})

    def do_PUT(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/_test/hints/"):
            with LOCK:
                STATE["hints"][url.path.rsplit("/", 1)[1]] = json.loads(self.body())
            return self.answer(204, {})
        if url.path == "/_test/jwks-path":
            with LOCK:
                STATE["jwks_path"] = json.loads(self.body())["path"]
            return self.answer(204, {})
        if url.path == "/_test/jwks-status":
            with LOCK:
                STATE["jwks_status"] = int(json.loads(self.body())["status"])
            return self.answer(204, {})
        if url.path == "/_test/token-endpoint":
            with LOCK:
                STATE["token_endpoint"] = json.loads(self.body())["url"]
            return self.answer(204, {})
        self.answer(404, {"error": "not found"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        with LOCK:
            try:
                if url.path == "/register":
                    token = (self.headers.get("authorization") or "").removeprefix("Bearer ")
                    if token not in STATE["tokens"]:
                        return self.answer(401, {"error": "invalid registration token"})
                    STATE["tokens"].discard(token)
                    return self.answer(200, register(json.loads(self.body())))
                if url.path == "/deep-link-return":
                    form = dict(parse_qsl(self.body().decode()))
                    platform = Platform()
                    platform.get_registration()
                    items = platform.validate_deeplinking_resp(form)
                    claims = jwt.decode(form["JWT"], options={"verify_signature": False})
                    STATE["deep_links"].append({"items": items, "claims": claims})
                    return self.answer(200, {"items": items})
            except Exception as e:  # noqa: BLE001 - every refusal is the test's answer
                return self.answer(400, {"error": f"{type(e).__name__}: {e}"})
        self.answer(404, {"error": "not found"})


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    STATE["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    print(STATE["base"], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
