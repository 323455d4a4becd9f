//! The institution's OpenID Connect provider: npm `oidc-provider` (OpenID Certified), run by
//! `local/idp/provider.mjs` on Node.js, and a browser's way through its sign-in pages (the
//! library's own `devInteractions`: a login form, then a consent form) with a cookie jar.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Command, Stdio},
};

use reqwest::StatusCode;
use serde_json::json;
use vivid_local::stack::LOCAL_OIDC_CLIENT_SECRET;
use vivid_testkit::form_encode;

use crate::{TestApp, browser::cookie_value, repo_root, set_cookies};

/// The client id VIVID has at the test provider.
pub const IDP_CLIENT_ID: &str = "vivid";

/// A running provider; stopped when dropped.
pub struct Idp {
    /// `http://127.0.0.1:{port}`, as its discovery document names it.
    pub issuer: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Idp {
    /// Starts the provider on a port it binds itself (a port chosen here and bound later could
    /// be taken by another test's process in between), before the stack: the stack is
    /// configured with the issuer, and the provider learns the stack's callbacks in `serve`.
    pub async fn start() -> Self {
        let dir = repo_root().join("local/idp");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "npm oidc-provider is not installed: `make deps` (or `npm ci` in local/idp)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .args(["0", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs local/idp/provider.mjs");
        let stdout = child.stdout.take().expect("the provider's stdout");
        let stdin = child.stdin.take();
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        // The pipe stays read to its end: a provider writing to a closed pipe would die.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut idp = Self { issuer: String::new(), child, stdin, lines };
        let line = idp.lines.recv().await.unwrap_or_default();
        idp.issuer = line.trim().strip_prefix("listening ").unwrap_or_default().to_owned();
        assert!(idp.issuer.starts_with("http://127.0.0.1:"), "the provider did not start: {line:?}");
        idp
    }

    /// Serves one client, VIVID, allowed to return to `redirect_uris`.
    pub async fn serve(&mut self, redirect_uris: Vec<String>) {
        let clients = json!([{
            "client_id": IDP_CLIENT_ID,
            "client_secret": LOCAL_OIDC_CLIENT_SECRET,
            "redirect_uris": redirect_uris,
        }]);
        let mut stdin = self.stdin.take().expect("the provider serves its clients once");
        stdin.write_all(format!("{clients}\n").as_bytes()).expect("the provider reads its clients");
        drop(stdin);
        let line = self.lines.recv().await.unwrap_or_default();
        assert_eq!(line.trim(), "ready", "the provider did not take its clients");
    }
}

/// A browser's cookies at the provider (names only: one site, every path).
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn keep(&mut self, headers: &reqwest::header::HeaderMap) {
        for c in set_cookies(headers) {
            if let Some((name, rest)) = c.split_once('=') {
                let value = rest.split(';').next().unwrap_or_default().to_owned();
                self.0.insert(name.to_owned(), value);
            }
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// The first `action="..."` of an HTML page.
fn form_action(html: &str) -> Option<String> {
    let start = html.find("action=\"")? + "action=\"".len();
    html[start..].split('"').next().map(|a| a.replace("&amp;", "&"))
}

impl TestApp {
    /// `GET /auth/oidc/{provider}/login` as a browser: the provider's authorize URL and the
    /// `vivid_oidc_login` cookie.
    pub async fn oidc_login(&self, provider: &str, return_to: Option<&str>) -> (String, String) {
        let mut url = format!("{}/auth/oidc/{provider}/login", self.base);
        if let Some(r) = return_to {
            url = format!("{url}?returnTo={}", form_encode(r));
        }
        let resp = self.http.get(url).send().await.expect("login");
        assert_eq!(resp.status(), StatusCode::FOUND, "{:?}", resp.text().await);
        let cookie = cookie_value(&set_cookies(resp.headers()), "vivid_oidc_login").expect("login cookie");
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
        (location, cookie)
    }

    /// The person signs in at the provider as `account` (`ana@uni.example`; `unverified:` before
    /// it for an address the provider has not verified) and consents: the callback URL the
    /// provider sends the browser to.
    pub async fn sign_in_at_idp(&self, authorize_url: &str, account: &str) -> String {
        let mut jar = Jar::default();
        let mut url = authorize_url.to_owned();
        let mut form: Option<Vec<(&str, String)>> = None;
        for _ in 0..12 {
            let req = match form.take() {
                Some(fields) => {
                    let body = fields.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect::<Vec<_>>();
                    self.http
                        .post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.join("&"))
                }
                None => self.http.get(&url),
            };
            let resp = req.header("cookie", jar.header()).send().await.expect("the provider answers");
            jar.keep(resp.headers());
            let base = url.split('/').take(3).collect::<Vec<_>>().join("/");
            if resp.status().is_redirection() {
                let next = resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("location");
                let next = if next.starts_with('/') { format!("{base}{next}") } else { next.to_owned() };
                if next.starts_with(&self.base) {
                    return next;
                }
                url = next;
                continue;
            }
            let status = resp.status();
            let html = resp.text().await.expect("page");
            assert_eq!(status, StatusCode::OK, "{html}");
            let action = form_action(&html).expect("a form on the provider's page");
            url = if action.starts_with('/') { format!("{base}{action}") } else { action };
            form = Some(if html.contains("name=\"login\"") {
                vec![("prompt", "login".into()), ("login", account.into()), ("password", "any".into())]
            } else {
                vec![("prompt", "consent".into())]
            });
        }
        panic!("the provider's sign-in did not come back to the stack");
    }

    /// The browser follows the provider's redirect to our callback with its login cookie.
    pub async fn oidc_callback(&self, callback_url: &str, login_cookie: &str) -> reqwest::Response {
        self.http
            .get(callback_url)
            .header("cookie", format!("vivid_oidc_login={login_cookie}"))
            .send()
            .await
            .expect("callback")
    }

    /// A whole institutional sign-in as `account`: where the callback sent the browser.
    pub async fn oidc_sign_in(&self, provider: &str, account: &str) -> String {
        let (authorize, cookie) = self.oidc_login(provider, Some(&format!("{}/_local/signed-in", self.base))).await;
        let callback = self.sign_in_at_idp(&authorize, account).await;
        let resp = self.oidc_callback(&callback, &cookie).await;
        assert_eq!(resp.status(), StatusCode::FOUND, "{:?}", resp.text().await);
        resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned()
    }
}

/// A value of the fragment of `location` (`accessToken`, `error`, ...), decoded.
pub fn fragment_param(location: &str, name: &str) -> Option<String> {
    let fragment = location.split_once('#')?.1;
    fragment.split('&').find_map(|p| p.strip_prefix(&format!("{name}=")).map(vivid_testkit::form_decode))
}
