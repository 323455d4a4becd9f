//! A browser's sign-in through the Google stand-in, and the cookies it is given.

use reqwest::{Method, StatusCode, header::HeaderMap};
use vivid_testkit::{form_decode, form_encode, query_param};

use crate::{Reply, TestApp};

/// The outcome of a browser sign-in through the Google stand-in.
#[derive(Debug)]
pub struct BrowserSignIn {
    /// Where the callback sent the browser (front end, with the fragment).
    pub location: String,
    pub access_token: String,
    /// The `__Host-vivid_refresh` cookie's value.
    pub refresh_cookie: String,
    /// Every `Set-Cookie` of the callback.
    pub set_cookies: Vec<String>,
}

/// The value of `name` in a list of `Set-Cookie` headers.
pub fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap_or("").to_owned()))
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect()
}

/// The step of a browser sign-in before Google: `/auth/google/login`'s redirect and cookie.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub authorize_url: String,
    pub login_cookie: String,
}

impl TestApp {
    /// `GET /auth/google/login`, as a browser.
    pub async fn start_login(&self, return_to: Option<&str>) -> PendingLogin {
        let mut url = format!("{}/auth/google/login", self.base);
        if let Some(r) = return_to {
            url = format!("{url}?returnTo={}", form_encode(r));
        }
        let resp = self.http.get(url).send().await.expect("login");
        assert_eq!(resp.status(), StatusCode::FOUND);
        let cookies = set_cookies(resp.headers());
        let authorize_url = resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
        PendingLogin { authorize_url, login_cookie: cookie_value(&cookies, "vivid_login").expect("login cookie") }
    }

    /// The person picks an e-mail on the Google stand-in's page; returns the callback URL.
    pub async fn approve_at_google(&self, pending: &PendingLogin, email: &str, name: &str, verified: bool) -> String {
        let page = self.http.get(&pending.authorize_url).send().await.expect("authorize page");
        assert_eq!(page.status(), StatusCode::OK);
        let q = |n: &str| query_param(&pending.authorize_url, n).unwrap_or_default();
        let form = [
            ("client_id", q("client_id")),
            ("redirect_uri", q("redirect_uri")),
            ("state", q("state")),
            ("code_challenge", q("code_challenge")),
            ("nonce", q("nonce")),
            ("email", email.to_owned()),
            ("name", name.to_owned()),
            ("email_verified", verified.to_string()),
        ];
        let body = form.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect::<Vec<_>>().join("&");
        let resp = self
            .http
            .post(format!("{}/o/oauth2/v2/auth/approve", self.stack.google.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("approve");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned()
    }

    /// The browser follows Google's redirect to our callback, with its login cookie.
    pub async fn callback(&self, callback_url: &str, login_cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(callback_url);
        if let Some(c) = login_cookie {
            req = req.header("cookie", format!("vivid_login={c}"));
        }
        req.send().await.expect("callback")
    }

    /// A whole browser sign-in; panics unless it ends at the front end with tokens.
    pub async fn browser_sign_in(&self, email: &str, name: &str) -> BrowserSignIn {
        let pending = self.start_login(None).await;
        let callback = self.approve_at_google(&pending, email, name, true).await;
        let resp = self.callback(&callback, Some(&pending.login_cookie)).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        assert_eq!(status, StatusCode::FOUND, "{:?}", resp.text().await);
        let location = headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
        let fragment = location.split_once('#').map(|(_, f)| f.to_owned()).unwrap_or_default();
        let access_token = fragment
            .split('&')
            .find_map(|p| p.strip_prefix("accessToken=").map(form_decode))
            .expect("access token in the fragment");
        let cookies = set_cookies(&headers);
        BrowserSignIn {
            location,
            access_token,
            refresh_cookie: cookie_value(&cookies, "__Host-vivid_refresh").expect("refresh cookie"),
            set_cookies: cookies,
        }
    }

    /// `POST /auth/google` with an ID token.
    pub async fn google_token(&self, id_token: &str) -> Reply {
        self.call(Method::POST, "/auth/google", None, Some(serde_json::json!({ "idToken": id_token }))).await
    }
}
