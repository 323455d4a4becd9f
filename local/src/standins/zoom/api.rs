//! The Zoom stand-in's HTTP endpoints: OAuth (authorize, token with rotating refresh tokens,
//! revoke), the REST API (the user, recordings by month window with expiring page tokens, a
//! meeting's recordings) and the downloads, over the state the stand-in holds.

use super::*;

#[derive(Deserialize)]
pub(super) struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
}

pub(super) async fn authorize(State(state): State<Shared>, Query(q): Query<AuthorizeQuery>) -> Response {
    let mut s = lock(&state);
    if q.client_id != s.client_id {
        return error(StatusCode::BAD_REQUEST, "Invalid client_id");
    }
    let code = format!("zmcode{}", ulid::Ulid::new());
    s.tokens.codes.insert(code.clone());
    let mut to = match reqwest::Url::parse(&q.redirect_uri) {
        Ok(u) => u,
        Err(_) => return error(StatusCode::BAD_REQUEST, "Invalid redirect"),
    };
    to.query_pairs_mut().append_pair("code", &code).append_pair("state", &q.state);
    Redirect::to(to.as_str()).into_response()
}

/// The client of a token request, from HTTP Basic.
fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(value.trim()).ok()?).ok()?;
    decoded.split_once(':').map(|(i, s)| (i.to_owned(), s.to_owned()))
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    grant_type: String,
    code: Option<String>,
    refresh_token: Option<String>,
}

pub(super) async fn token(State(state): State<Shared>, headers: HeaderMap, Form(f): Form<TokenForm>) -> Response {
    let mut s = lock(&state);
    if basic_client(&headers) != Some((s.client_id.clone(), s.client_secret.clone())) {
        return error(StatusCode::UNAUTHORIZED, "Invalid client_id or client_secret");
    }
    match f.grant_type.as_str() {
        "authorization_code" => {
            if !f.code.as_ref().is_some_and(|c| s.tokens.codes.remove(c)) {
                return error(StatusCode::BAD_REQUEST, "Invalid authorization code");
            }
        }
        "refresh_token" => {
            let presented = f.refresh_token.unwrap_or_default();
            // Rotation: a refresh token works once; the one used is dead from then on.
            if s.tokens.mode == Mode::Revoked || !s.tokens.refresh.remove(&presented) {
                if s.used_refresh.contains(&presented) {
                    s.reuses += 1;
                }
                return error(StatusCode::BAD_REQUEST, "Invalid Token!");
            }
            s.used_refresh.push(presented);
            s.tokens.refreshes += 1;
        }
        _ => return error(StatusCode::BAD_REQUEST, "Unsupported grant type"),
    }
    if let Some(body) = s.published.get("token") {
        return Json(body.clone()).into_response();
    }
    let (access, refresh) = s.tokens.issue("zm");
    Json(json!({
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": 3599,
        "scope": "cloud_recording:read:list_user_recordings cloud_recording:read:list_recording_files user:read:user",
    }))
    .into_response()
}

#[derive(Deserialize)]
pub(super) struct RevokeQuery {
    token: Option<String>,
}

pub(super) async fn revoke(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<RevokeQuery>,
    body: String,
) -> Response {
    let mut s = lock(&state);
    if s.tokens.mode == Mode::ServerError {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    }
    if basic_client(&headers) != Some((s.client_id.clone(), s.client_secret.clone())) {
        return error(StatusCode::UNAUTHORIZED, "Invalid client_id or client_secret");
    }
    let from_form = body.split('&').find_map(|kv| kv.strip_prefix("token=")).map(str::to_owned);
    let Some(token) = q.token.or(from_form) else { return error(StatusCode::BAD_REQUEST, "No token") };
    // Zoom documents the access token here (a refresh token is taken too); an unknown or dead
    // one is refused. Revoking ends the user's grant: the app is uninstalled for them, every
    // token of theirs is dead (the stand-in has one Zoom user).
    if !s.tokens.access.contains(&token) && !s.tokens.refresh.contains(&token) {
        return error(StatusCode::BAD_REQUEST, "Invalid Token!");
    }
    s.tokens.refresh.clear();
    s.tokens.access.clear();
    s.revocations += 1;
    Json(json!({ "status": "success" })).into_response()
}

fn gate(state: &Shared, headers: &HeaderMap) -> Option<Response> {
    lock(state).tokens.gate(headers, error)
}

pub(super) async fn me(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(resp) = gate(&state, &headers) {
        return resp;
    }
    let s = lock(&state);
    Json(json!({ "id": s.user_id, "email": "host@example.com", "first_name": "Local", "last_name": "Host" }))
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    from: Option<String>,
    to: Option<String>,
    page_size: Option<usize>,
    next_page_token: Option<String>,
}

pub(super) async fn list(State(state): State<Shared>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    if let Some(resp) = gate(&state, &headers) {
        return resp;
    }
    let mut s = lock(&state);
    let page_size = q.page_size.unwrap_or(30).clamp(1, 300);
    let (from, to, offset) = match q.next_page_token.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => match s.pages.get(t) {
            Some(p) if p.issued.elapsed() < PAGE_TOKEN_TTL => (p.from, p.to, p.offset),
            _ => return error(StatusCode::BAD_REQUEST, "Invalid next_page_token or it expired"),
        },
        None => {
            let (Some(from), Some(to)) = (q.from.as_deref().and_then(date), q.to.as_deref().and_then(date)) else {
                return error(StatusCode::BAD_REQUEST, "from and to must be dates (yyyy-mm-dd)");
            };
            // Zoom answers at most a month per call.
            if from > to || (to - from).whole_days() > 30 {
                return error(StatusCode::BAD_REQUEST, "The date range must be within a month");
            }
            (from, to, 0)
        }
    };
    s.listings.push((from.to_string(), to.to_string()));
    if let Some(body) = s.published.get("list") {
        return Json(body.clone()).into_response();
    }
    let mut inside: Vec<&Meeting> =
        s.meetings.iter().filter(|m| m.start.date() >= from && m.start.date() <= to).collect();
    inside.sort_by_key(|m| std::cmp::Reverse(m.start));
    let total = inside.len();
    let page: Vec<Value> =
        inside.iter().skip(offset).take(page_size).map(|m| meeting_json(&s.base, m, |f| !f.pending)).collect();
    let next = if offset + page_size < total {
        let t = format!("zpt{}", ulid::Ulid::new());
        s.pages.insert(t.clone(), PageToken { from, to, offset: offset + page_size, issued: Instant::now() });
        t
    } else {
        String::new()
    };
    Json(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "page_size": page_size,
        "total_records": total,
        "next_page_token": next,
        "meetings": page,
    }))
    .into_response()
}

/// The meeting of a path segment: Zoom's UUIDs come once- or double-encoded.
fn decode_meeting(raw: &str) -> String {
    let once = percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned();
    if once.contains('%') { percent_encoding::percent_decode_str(&once).decode_utf8_lossy().into_owned() } else { once }
}

pub(super) async fn meeting(State(state): State<Shared>, headers: HeaderMap, Path(raw): Path<String>) -> Response {
    if let Some(resp) = gate(&state, &headers) {
        return resp;
    }
    let s = lock(&state);
    if let Some(body) = s.published.get("meeting") {
        return Json(body.clone()).into_response();
    }
    let id = decode_meeting(&raw);
    match s.meetings.iter().find(|m| m.uuid == id) {
        Some(m) => Json(meeting_json(&s.base, m, |f| !f.pending)).into_response(),
        None => error(StatusCode::NOT_FOUND, "There is no recording for this meeting."),
    }
}

/// `GET /rec/download/{file}` with the access token: a redirect to the file host, as Zoom does.
pub(super) async fn download(State(state): State<Shared>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    if let Some(resp) = gate(&state, &headers) {
        return resp;
    }
    let s = lock(&state);
    if !s.meetings.iter().any(|m| m.files.iter().any(|f| f.id == file && !f.pending)) {
        return error(StatusCode::NOT_FOUND, "no such file");
    }
    Redirect::temporary(&format!("{}/rec/file/{file}?tk=tmp{}", s.base, ulid::Ulid::new())).into_response()
}

pub(super) async fn file(State(state): State<Shared>, Path(file): Path<String>) -> Response {
    let (content, mode) = {
        let mut s = lock(&state);
        s.tokens.downloads += 1;
        let found = s
            .meetings
            .iter()
            .flat_map(|m| m.files.iter())
            .find(|f| f.id == file && !f.pending)
            .map(|f| f.content.clone());
        match found {
            Some(c) => (c, s.tokens.mode),
            None => return error(StatusCode::NOT_FOUND, "no such file"),
        }
    };
    serve(content, mode)
}
