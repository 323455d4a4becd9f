//! The study page on the front end's origin (`VIVID_FRONTEND_ORIGIN`, `http://localhost:5173` by
//! default): the static files of `web/` as a web host would serve them, and `/config.js`, which
//! tells the page where the API is. Any path without a file extension that names no file is the
//! page itself (`/invitations/{code}`, where invitation e-mails link), as a single-page app's host
//! answers. Only `GET` and `HEAD`; only files under `web/` (no `..`, no hidden file, no symbolic
//! link out of it). Only requests whose `Host` is the origin's `host:port` (421 otherwise: a DNS
//! rebinding page on another name gets nothing); HTML is never framed (`frame-ancestors 'none'`)
//! but where an LMS shows the tool (`LMS_FRAMED`), and there only by the LMSs' origins the stack
//! was given (`VIVID_LMS_ORIGINS`: [`LmsOrigins`]).

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    body::Body,
    extract::{Request, State},
    response::Response,
};
use http::{HeaderValue, Method, StatusCode, header};
use tokio::{net::TcpListener, task::JoinHandle};

/// The served page; dropping it stops the server.
pub struct FrontEnd {
    pub addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for FrontEnd {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Site {
    root: PathBuf,
    config: Vec<u8>,
    /// `frame-ancestors` of the pages an LMS frames; `None`: no LMS may (they stay `'none'`).
    lms_framing: Option<HeaderValue>,
    /// The `Host` values that name this origin (`localhost:5173`; also `localhost` on port 80).
    hosts: Vec<String>,
}

/// The port to serve an origin on, when the origin is this machine's over plain HTTP
/// (`http://localhost:5173`, `http://127.0.0.1:8080`, `http://app.vivid.localhost:4000`); `None`
/// for another host (a front end deployed elsewhere) or HTTPS (a dev server of its own).
pub fn local_port(origin: &str) -> Option<u16> {
    let authority = origin.strip_prefix("http://")?.trim_end_matches('/');
    if authority.contains(['/', '@', '?', '#']) {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let local =
        host == "localhost" || host.ends_with(".localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    local.then_some(port)
}

/// The host name of an origin (`localhost` for `http://localhost:5173`).
pub fn origin_host(origin: &str) -> Option<&str> {
    let authority = origin.split_once("://")?.1.trim_end_matches('/');
    Some(authority.rsplit_once(':').map_or(authority, |(h, _)| h))
}

/// The address to serve a local origin on: its IP when the host is an IPv4 literal
/// (`http://127.0.0.1:8080`), else loopback `127.0.0.1` (`localhost`, `*.localhost`), never the
/// API's `VIVID_HOST`, so the page is not on every interface. An IPv6 literal (`http://[::1]:5173`)
/// is refused: the API listens on IPv4 and `/config.js` would name it at `[::1]`, where nothing
/// answers.
pub fn bind_ip(origin: &str) -> Result<IpAddr, String> {
    let host = origin_host(origin).ok_or_else(|| format!("{origin} is not an origin"))?;
    if host.starts_with('[') {
        return Err(format!(
            "{origin}: an IPv6 origin is not supported (the API listens on IPv4); use http://localhost:PORT or http://127.0.0.1:PORT"
        ));
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(ip),
        Ok(_) => Err(format!("{origin} is not this machine's loopback")),
        Err(_) => Ok(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
    }
}

/// The origins of the LMSs whose pages may frame the tool (`VIVID_LMS_ORIGINS`, separated by `,`
/// or spaces): each `https://host[:port]`, or `http://` on this machine (an LMS stand-in). Which
/// LMSs an institution uses is its operator's to say, as a production host of `web/` is told
/// (docs/lti.md, "What the study page does"): a site not listed cannot frame `/lti`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LmsOrigins(Vec<String>);

impl LmsOrigins {
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for origin in list.split([',', ' ']).map(str::trim).filter(|o| !o.is_empty()) {
            let origin = origin.trim_end_matches('/').to_ascii_lowercase();
            let authority =
                origin.strip_prefix("https://").or_else(|| local_port(&origin).and(origin.strip_prefix("http://")));
            let Some(authority) = authority else {
                return Err(format!("{origin}: an LMS origin is https://host[:port] (http only on this machine)"));
            };
            let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "443"));
            let host_ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !host_ok || port.parse::<u16>().is_err() {
                return Err(format!("{origin}: not an origin (scheme://host[:port], no path)"));
            }
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins))
    }

    /// The `Content-Security-Policy` of the framed pages; `None` when no LMS is listed.
    fn policy(&self) -> Option<HeaderValue> {
        if self.0.is_empty() {
            return None;
        }
        HeaderValue::from_str(&format!("frame-ancestors {}", self.0.join(" "))).ok()
    }
}

/// Serves `root` (the repository's `web/`) on `bind` for requests whose `Host` names `host` (the
/// origin's host name) on the bound port; `/config.js` names `api` as the API's base URL; the LMSs
/// in `lms` may frame where a launch lands.
pub async fn serve(
    root: &Path,
    bind: SocketAddr,
    host: &str,
    api: &str,
    lms: &LmsOrigins,
) -> std::io::Result<FrontEnd> {
    let root = tokio::fs::canonicalize(root).await?;
    let config = format!("window.VIVID_CONFIG = {};\n", serde_json::json!({ "api": api })).into_bytes();
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let host = host.to_ascii_lowercase();
    let mut hosts = vec![format!("{host}:{}", addr.port())];
    if addr.port() == 80 {
        hosts.push(host);
    }
    let site = Arc::new(Site { root, config, lms_framing: lms.policy(), hosts });
    let app = axum::Router::new().fallback(answer).with_state(site);
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the study page's server stopped");
        }
    });
    Ok(FrontEnd { addr, server })
}

/// The addresses an LMS frames (LTI, docs/lti.md): where a launch lands (`signed-in.html`, which
/// sends the launch's code on to `/lti`) and `/lti`, the page that signs in with that code only,
/// never with the refresh cookie, so a page framing it gets no Google sign-in's session to act
/// with. Only the listed LMSs' pages may frame them ([`LmsOrigins`]).
const LMS_FRAMED: [&str; 2] = ["/signed-in.html", "/lti"];

async fn answer(State(site): State<Arc<Site>>, req: Request) -> Response {
    let framed = LMS_FRAMED.contains(&req.uri().path());
    let mut resp = respond(&site, req).await;
    if let Some(policy) = site.lms_framing.clone().filter(|_| framed)
        && resp.headers().contains_key(header::X_FRAME_OPTIONS)
    {
        let h = resp.headers_mut();
        h.remove(header::X_FRAME_OPTIONS);
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    resp
}

async fn respond(site: &Site, req: Request) -> Response {
    let named = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_ascii_lowercase);
    if !named.is_some_and(|h| site.hosts.contains(&h)) {
        return plain(StatusCode::MISDIRECTED_REQUEST, "not this origin's host");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
    }
    let head = req.method() == Method::HEAD;
    let path = req.uri().path();
    if path == "/config.js" {
        return file(site.config.clone(), "text/javascript; charset=utf-8", head);
    }
    let no_extension = |p: &str| !p.rsplit('/').next().unwrap_or_default().contains('.');
    let Some(relative) = relative_path(path) else {
        // A page address that is not UTF-8 once decoded (/invitations/%E0) is still the page, which
        // says the link is broken; only index.html is served for it.
        if percent_encoding::percent_decode_str(path).decode_utf8().is_err() && no_extension(path) {
            return the_page(site, head).await;
        }
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    let wanted = site.root.join(&relative);
    match read_under(&site.root, &wanted).await {
        Some(bytes) => file(bytes, content_type(&wanted), head),
        // An address of the page itself (no extension): the page, which reads its path.
        None if no_extension(&relative) => the_page(site, head).await,
        None => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn the_page(site: &Site, head: bool) -> Response {
    match read_under(&site.root, &site.root.join("index.html")).await {
        Some(bytes) => file(bytes, "text/html; charset=utf-8", head),
        None => plain(StatusCode::NOT_FOUND, "web/index.html is missing"),
    }
}

/// The file a request path names, relative to `web/`: `index.html` for `/`; `None` for anything
/// that could leave the directory or reach a hidden file (`..`, `.git`, a backslash, a NUL, an
/// empty segment), also once percent-decoded.
fn relative_path(path: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
    let trimmed = decoded.strip_prefix('/')?;
    if trimmed.is_empty() {
        return Some("index.html".to_owned());
    }
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let safe = trimmed
        .split('/')
        .all(|segment| !segment.is_empty() && !segment.starts_with('.') && !segment.contains(['\\', '\0', ':']));
    safe.then(|| trimmed.to_owned())
}

/// The bytes of a regular file that is really under `root` (symbolic links resolved), if any.
async fn read_under(root: &Path, wanted: &Path) -> Option<Vec<u8>> {
    let real = tokio::fs::canonicalize(wanted).await.ok()?;
    if !real.starts_with(root) || !tokio::fs::metadata(&real).await.ok()?.is_file() {
        return None;
    }
    tokio::fs::read(&real).await.ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn file(bytes: Vec<u8>, content_type: &'static str, head: bool) -> Response {
    let length = bytes.len();
    let mut resp = Response::new(if head { Body::empty() } else { Body::from(bytes) });
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    // Edits to web/ show on the next load.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if content_type.starts_with("text/html") {
        // No other page frames this one (clickjacking); X-Frame-Options for older browsers.
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    resp
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machines_plain_http_origins_are_served() {
        assert_eq!(local_port("http://localhost:5173"), Some(5173));
        assert_eq!(local_port("http://app.vivid.localhost:4000/"), Some(4000));
        assert_eq!(local_port("http://127.0.0.1:8080"), Some(8080));
        assert_eq!(local_port("http://[::1]:8080"), Some(8080));
        assert_eq!(local_port("http://localhost"), Some(80));
        assert_eq!(local_port("https://localhost:5173"), None);
        assert_eq!(local_port("http://app.example.com:5173"), None);
        assert_eq!(local_port("http://localhost:5173/path"), None);
        assert_eq!(origin_host("http://localhost:5173"), Some("localhost"));
        assert_eq!(origin_host("http://app.vivid.localhost:4000"), Some("app.vivid.localhost"));
    }

    #[test]
    fn lms_origins_are_https_or_this_machines_http_without_a_path() {
        let listed =
            LmsOrigins::parse(" https://canvas.example.edu, http://127.0.0.1:8001 https://canvas.example.edu/")
                .expect("origins");
        assert_eq!(listed, LmsOrigins(vec!["https://canvas.example.edu".into(), "http://127.0.0.1:8001".into()]));
        assert_eq!(LmsOrigins::parse("").expect("none"), LmsOrigins::default());
        assert_eq!(LmsOrigins::default().policy(), None);
        for bad in [
            "*",
            "https:",
            "http://lms.example.edu",
            "https://lms.example.edu/course",
            "https://lms.example.edu:port",
            "https://*.example.edu",
            "'self'",
            "https://a.example; script-src *",
        ] {
            assert!(LmsOrigins::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_page_binds_the_origins_loopback_never_every_interface() {
        let v4 = |a, b, c, d| Ok(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
        assert_eq!(bind_ip("http://localhost:5173"), v4(127, 0, 0, 1));
        assert_eq!(bind_ip("http://app.vivid.localhost:4000"), v4(127, 0, 0, 1));
        assert_eq!(bind_ip("http://127.0.0.1:8080"), v4(127, 0, 0, 1));
        assert_eq!(bind_ip("http://127.0.0.2:8080"), v4(127, 0, 0, 2));
        assert!(bind_ip("http://0.0.0.0:5173").is_err());
        let v6 = bind_ip("http://[::1]:5173").expect_err("IPv6 is refused");
        assert!(v6.contains("IPv6") && v6.contains("http://localhost:PORT"), "{v6}");
    }

    #[tokio::test]
    async fn serves_files_config_and_the_page_and_nothing_outside() {
        let dir = std::env::temp_dir().join(format!("vivid-frontend-{}", std::process::id()));
        let web = dir.join("web");
        std::fs::create_dir_all(web.join("app")).expect("a temporary directory");
        std::fs::write(web.join("index.html"), "<p>the page</p>").expect("write");
        std::fs::write(web.join("app/a.js"), "export {};").expect("write");
        std::fs::write(dir.join("secret.txt"), "outside").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("secret.txt"), web.join("link.txt")).expect("a symlink");
        let lms = LmsOrigins::parse("http://127.0.0.1:9999, https://LMS.example.edu/").expect("two origins");
        let page = serve(&web, SocketAddr::from(([127, 0, 0, 1], 0)), "localhost", "http://localhost:3000", &lms)
            .await
            .expect("serving");
        let client = reqwest::Client::builder()
            .resolve("localhost", page.addr)
            .resolve("rebound.example", page.addr)
            .build()
            .expect("a client");
        let base = format!("http://localhost:{}", page.addr.port());
        let get = |path: &str| {
            let req = client.get(format!("{base}{path}"));
            async move {
                let resp = req.send().await.expect("an answer");
                let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                (resp.status().as_u16(), ctype, resp.text().await.unwrap_or_default())
            }
        };
        let (status, ctype, body) = get("/config.js").await;
        assert_eq!((status, ctype.as_str()), (200, "text/javascript; charset=utf-8"));
        assert_eq!(body, "window.VIVID_CONFIG = {\"api\":\"http://localhost:3000\"};\n");
        assert_eq!(get("/app/a.js").await.1, "text/javascript; charset=utf-8");
        assert_eq!(get("/invitations/abc").await.2, "<p>the page</p>");
        assert_eq!(get("/invitations/%E0").await.2, "<p>the page</p>");
        assert_eq!(get("/").await.2, "<p>the page</p>");
        for outside in ["/link.txt", "/%2e%2e/secret.txt", "/missing.js", "/%E0.js"] {
            assert_eq!(get(outside).await.0, 404, "{outside}");
        }
        // HTML is never framed; scripts need no such header.
        let html = client.get(format!("{base}/")).send().await.expect("an answer");
        assert_eq!(
            html.headers().get("content-security-policy").map(|v| v.as_bytes()),
            Some(&b"frame-ancestors 'none'"[..])
        );
        assert_eq!(html.headers().get("x-frame-options").map(|v| v.as_bytes()), Some(&b"DENY"[..]));
        let js = client.get(format!("{base}/app/a.js")).send().await.expect("an answer");
        assert!(js.headers().get("x-frame-options").is_none());
        // But where an LMS shows the tool: the launch's landing page and /lti (the page), by the
        // listed LMSs only; a stack given no LMS frames nothing.
        std::fs::write(web.join("signed-in.html"), "<p>landing</p>").expect("write");
        let unlisted = serve(&web, SocketAddr::from(([127, 0, 0, 1], 0)), "localhost", "", &LmsOrigins::default())
            .await
            .expect("serving");
        let unlisted_client = reqwest::Client::builder().resolve("localhost", unlisted.addr).build().expect("a client");
        let framing = |resp: reqwest::Response| {
            let h = resp.headers();
            let csp = h.get("content-security-policy").map(|v| v.as_bytes().to_vec());
            (csp, h.get("x-frame-options").map(|v| v.as_bytes().to_vec()))
        };
        let never = (Some(b"frame-ancestors 'none'".to_vec()), Some(b"DENY".to_vec()));
        for (path, framed) in [("/lti", true), ("/signed-in.html", true), ("/lti/", false), ("/index.html", false)] {
            let resp = client.get(format!("{base}{path}")).send().await.expect("an answer");
            let listed = (Some(b"frame-ancestors http://127.0.0.1:9999 https://lms.example.edu".to_vec()), None);
            assert_eq!(framing(resp), if framed { listed } else { never.clone() }, "{path}");
            let url = format!("http://localhost:{}{path}", unlisted.addr.port());
            let resp = unlisted_client.get(url).send().await.expect("an answer");
            assert_eq!(framing(resp), never, "{path}, no LMS listed");
        }
        assert_eq!(get("/lti").await.2, "<p>the page</p>");
        // Another name resolving here (DNS rebinding), or the bare address: 421, nothing served.
        for url in [format!("http://rebound.example:{}/config.js", page.addr.port()), format!("http://{}/", page.addr)]
        {
            let resp = client.get(&url).send().await.expect("an answer");
            assert_eq!(resp.status().as_u16(), 421, "{url}");
            assert_eq!(resp.text().await.unwrap_or_default(), "not this origin's host", "{url}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn paths_stay_under_web() {
        assert_eq!(relative_path("/").as_deref(), Some("index.html"));
        assert_eq!(relative_path("/app/session.js").as_deref(), Some("app/session.js"));
        assert_eq!(relative_path("/invitations/abc/").as_deref(), Some("invitations/abc"));
        for bad in
            ["/../Cargo.toml", "/app/../../x", "/%2e%2e/Cargo.toml", "/.git/config", "/a//b", "/a\\..\\b", "/%00"]
        {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
    }
}
