//! The events of the benchmark: for every function, `n` invocations made current against a
//! seeded world (users, a space with members, videos, a snapshot, a memo, a drawing), the way
//! `tests/tests/stack/events.rs` makes every sample event current — real ids, real tokens. Routes that
//! consume what they act on (deletes, one-time codes, refresh tokens, uploads to complete) get
//! `n` distinct targets prepared beforehand; the others repeat one event, as a client would.
mod consumers;
mod http;

use futures_util::{StreamExt, stream};
use serde_json::{Map, Value, json};
use vivid_domain::video::{UploadStore, Video, VideoCatalog, VideoRemoval};
use vivid_local::infra::template::Route;
use vivid_tests::{TestApp, TestUser, World, job_event, query_param, s3_event, sample_event};

/// How many set-up calls run at once (the emulator serialises DynamoDB anyway).
pub(super) const SETUP_CONCURRENCY: usize = 4;

pub type SetupResult<T> = Result<T, String>;

/// What one HTTP event carries beyond the sample.
#[derive(Default)]
pub(super) struct Call {
    token: Option<String>,
    params: Vec<(&'static str, String)>,
    body: Option<Value>,
    query: Option<String>,
    cookies: Vec<String>,
    headers: Vec<(&'static str, String)>,
}

impl Call {
    pub(super) fn by(user: &TestUser) -> Self {
        Self { token: Some(user.token.clone()), ..Self::default() }
    }
    pub(super) fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.params.push((name, value.into()));
        self
    }
    pub(super) fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    pub(super) fn cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }
    pub(super) fn query(mut self, query: &str) -> Self {
        self.query = Some(query.to_owned());
        self
    }
    pub(super) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The function's sample event, aimed at this stack: path and parameters from the world (or
/// `call`), the caller's token, the body, query and cookies when given.
pub(super) fn http_event(app: &TestApp, world: &World, route: &Route, call: Call) -> Value {
    let mut e = sample_event(&route.function);
    let mut path = route.path.clone();
    let mut params = Map::new();
    for (name, default) in world.path_parameters() {
        let placeholder = format!("{{{name}}}");
        if path.contains(&placeholder) {
            let value = call.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap_or(default);
            path = path.replace(&placeholder, &value);
            params.insert(name.into(), value.into());
        }
    }
    // The `$default` route has no path of its own: its sample's path stays.
    if !route.is_default() {
        e["pathParameters"] = if params.is_empty() { Value::Null } else { Value::Object(params) };
        e["rawPath"] = path.clone().into();
        e["requestContext"]["http"]["path"] = path.into();
    }
    // Sign-in builds its redirect URI from the domain the request reached.
    e["requestContext"]["domainName"] = app.stack.addr.to_string().into();
    if let Some(headers) = e["headers"].as_object_mut() {
        headers.remove("content-length");
        headers.insert("x-forwarded-proto".into(), "http".into());
        match &call.token {
            Some(t) => headers.insert("authorization".into(), format!("Bearer {t}").into()),
            None => headers.remove("authorization"),
        };
        for (name, value) in &call.headers {
            headers.insert((*name).into(), value.clone().into());
        }
    }
    if let Some(body) = call.body {
        e["body"] = body.to_string().into();
        e["isBase64Encoded"] = false.into();
    }
    if let Some(q) = call.query {
        let mut params = Map::new();
        for pair in q.split('&').filter_map(|p| p.split_once('=')) {
            params.insert(pair.0.into(), vivid_tests::form_decode(pair.1).into());
        }
        e["rawQueryString"] = q.into();
        e["queryStringParameters"] = Value::Object(params);
    }
    if !call.cookies.is_empty() {
        e["cookies"] = json!(call.cookies);
    }
    e
}

/// Runs `make(i)` for `0..n`, a few at a time, in order.
pub(super) async fn prepare<T, F, Fut>(n: usize, make: F) -> SetupResult<Vec<T>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = SetupResult<T>>,
{
    stream::iter(0..n).map(make).buffered(SETUP_CONCURRENCY).collect::<Vec<_>>().await.into_iter().collect()
}

/// A video taken to `READY` by the real event consumers (upload, job, job complete).
pub(super) async fn ready_video(app: &TestApp, world: &World) -> SetupResult<String> {
    let id = app.uploaded_video(&world.space, &world.host, vec![1u8; 256]).await;
    let job = job_of(app, &id)?;
    app.invoke("on-transcode-event", job_event("on-transcode-event", &id, &job, &app.stack.buckets.media)).await?;
    Ok(id)
}

/// The MediaConvert job of a video (the stand-in's record of `CreateJob`).
pub(super) fn job_of(app: &TestApp, video: &str) -> SetupResult<String> {
    app.stack
        .mediaconvert
        .jobs()
        .into_iter()
        .rev()
        .find(|j| j.body.to_string().contains(video))
        .map(|j| j.id)
        .ok_or_else(|| format!("no job for {video}"))
}

/// A fresh sign-in: the access token and the refresh cookie's value.
pub(super) async fn signed_in(app: &TestApp, i: usize) -> SetupResult<(String, String)> {
    let google = &app.stack.google;
    let token = google.id_token(&google.claims_for(&format!("bench{i}@example.com"), "Bench"));
    let r = app.google_token(&token).await;
    let access = r.body["accessToken"].as_str().ok_or_else(|| format!("sign-in: {:?}", r.body))?;
    let refresh = r.body["refreshToken"].as_str().ok_or_else(|| format!("sign-in: {:?}", r.body))?;
    Ok((access.to_owned(), refresh.to_owned()))
}

/// `n` events for `function`, against `world` in `app`.
pub async fn events_for(
    app: &TestApp,
    world: &World,
    routes: &[Route],
    function: &str,
    n: usize,
) -> SetupResult<Vec<Value>> {
    if let Some(route) = routes.iter().find(|r| r.function == function) {
        return http::http_events(app, world, route, n).await;
    }
    consumers::event_events(app, world, function, n).await
}
