//! Webex and Zoom connected through their stand-ins, as a browser connects them.

use reqwest::{Method, StatusCode};
use vivid_testkit::query_param;

use crate::{TestApp, TestUser};

impl TestApp {
    /// Webex's authorize URL for `who`, as a browser's `fetch` of `GET /webex/login` gets it.
    pub async fn webex_authorize_url(&self, who: &TestUser) -> String {
        let login = self.get("/webex/login", &who.token).await;
        assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
        assert_eq!(login.header("cache-control"), Some("no-store"));
        login.body["authorizeUrl"].as_str().expect("authorizeUrl").to_owned()
    }

    /// Connects `who`'s Webex account through the stand-in: the authorize URL, Webex's redirect
    /// back to the front end with code and state, `POST /webex/token`.
    pub async fn connect_webex(&self, who: &TestUser) {
        let authorize = self.webex_authorize_url(who).await;
        let back = self.http.get(&authorize).send().await.expect("authorize");
        let callback = back.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned();
        let code = query_param(&callback, "code").expect("code");
        let state = query_param(&callback, "state").expect("state");
        let r = self.post("/webex/token", &who.token, serde_json::json!({ "code": code, "state": state })).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    }

    /// Connects `who`'s Zoom account through the stand-in: the authorize URL (`GET /zoom/login`),
    /// Zoom's redirect back with code and state, `POST /zoom/token`.
    pub async fn connect_zoom(&self, who: &TestUser) {
        let (code, state) = self.zoom_code(who).await;
        let r = self.post("/zoom/token", &who.token, serde_json::json!({ "code": code, "state": state })).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    }

    /// A host with a space linked to their connected Zoom account (automatic import on).
    pub async fn zoom_linked_host(&self) -> (TestUser, String) {
        let host = self.user("Host").await;
        let space = self.space(&host, "Course").await;
        self.connect_zoom(&host).await;
        let path = format!("/spaces/{space}/zoom-auto-import");
        let r = self.call(Method::PUT, &path, Some(&host.token), Some(serde_json::json!({ "enabled": true }))).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        // Zoom's webhooks find the link on an index; they come minutes after a link, not at once.
        self.indexes_settled().await;
        (host, space)
    }

    /// A code and state Zoom returned for `who`'s connect, not yet posted.
    pub async fn zoom_code(&self, who: &TestUser) -> (String, String) {
        let login = self.get("/zoom/login", &who.token).await;
        assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
        let authorize = login.body["authorizeUrl"].as_str().expect("authorizeUrl").to_owned();
        let back = self.http.get(&authorize).send().await.expect("authorize");
        let callback = back.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned();
        (query_param(&callback, "code").expect("code"), query_param(&callback, "state").expect("state"))
    }
}
