//! The services' formats: token answers, membership containers, line items, `Link` headers.

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::json;
use vivid_domain::lti::services::{LineItemSpec, MemberStatus, PlatformMember, ServiceError};

fn unreadable(what: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unreadable(format!("{what}: {e}"))
}

#[derive(Deserialize)]
pub struct Token {
    pub access_token: String,
    /// Seconds; an hour when the platform does not say (IMS Security Framework's advice).
    #[serde(default = "an_hour")]
    pub expires_in: u64,
}

fn an_hour() -> u64 {
    3600
}

pub fn token(body: &[u8]) -> Result<Token, ServiceError> {
    let t: Token = serde_json::from_slice(body).map_err(|e| unreadable("the token answer", e))?;
    if t.access_token.is_empty() {
        return Err(ServiceError::Unreadable("the token answer has no access token".into()));
    }
    Ok(t)
}

/// An OAuth error answer's `error` (and description), for logs; never the request.
pub fn oauth_error(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct OAuthError {
        #[serde(default)]
        error: String,
        #[serde(default)]
        error_description: String,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(e) => format!("{} {}", e.error, e.error_description).chars().take(200).collect(),
        Err(_) => String::new(),
    }
}

#[derive(Deserialize)]
struct Member {
    user_id: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct Container {
    members: Vec<Member>,
}

/// A member's NRPS `status`, read case-insensitively and by its name after a `#` (platforms send
/// `Active`, `active` or `http://purl.imsglobal.org/vocab/lis/v2/status#Active`): `Active`,
/// `Deleted`, and anything else (`Inactive`, unknown) not an active member.
pub fn member_status(status: &str) -> MemberStatus {
    let name = status.trim().rsplit('#').next().unwrap_or_default();
    if name.eq_ignore_ascii_case("active") {
        MemberStatus::Active
    } else if name.eq_ignore_ascii_case("deleted") {
        MemberStatus::Deleted
    } else {
        MemberStatus::Inactive
    }
}

/// A page of a membership container (NRPS 2.0 §2.2).
pub fn members(body: &[u8]) -> Result<Vec<PlatformMember>, ServiceError> {
    let c: Container = serde_json::from_slice(body).map_err(|e| unreadable("the membership container", e))?;
    Ok(c.members
        .into_iter()
        .map(|m| PlatformMember {
            status: m.status.as_deref().map_or(MemberStatus::Active, member_status),
            user_id: m.user_id,
            roles: m.roles,
            name: m.name.unwrap_or_default(),
            email: m.email,
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: String,
    #[serde(default)]
    pub resource_id: String,
}

/// A page of a line-item container (AGS 2.0 §3.2: a JSON array).
pub fn line_items(body: &[u8]) -> Result<Vec<Item>, ServiceError> {
    serde_json::from_slice(body).map_err(|e| unreadable("the line-item container", e))
}

pub fn line_item(body: &[u8]) -> Result<Item, ServiceError> {
    serde_json::from_slice(body).map_err(|e| unreadable("the line item", e))
}

/// The body of a new line item.
pub fn new_line_item(spec: &LineItemSpec) -> Vec<u8> {
    let mut item = json!({
        "scoreMaximum": spec.score_maximum,
        "label": spec.label,
        "resourceId": spec.resource_id,
        "tag": "vivid-completion",
    });
    if let (Some(link), Some(obj)) = (&spec.resource_link_id, item.as_object_mut()) {
        obj.insert("resourceLinkId".into(), json!(link));
    }
    item.to_string().into_bytes()
}

/// The `rel="next"` target of the `Link` headers (RFC 8288), if any.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers.get_all("link").iter().filter_map(|v| v.to_str().ok()).find_map(next_in)
}

/// The `rel="next"` target of one `Link` value: `<url>; rel="next", <url2>; rel="differences"`.
pub fn next_in(value: &str) -> Option<String> {
    let mut rest = value;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let target = &rest[start + 1..end];
        let after = &rest[end + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        let is_next = params.split(';').filter_map(|p| p.trim().split_once('=')).any(|(k, v)| {
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim().trim_matches('"').split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.to_owned());
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(next_in(r#"<https://l/m?p=2>; rel="next""#).as_deref(), Some("https://l/m?p=2"));
        assert_eq!(next_in("<https://l/m?p=2>; rel=next").as_deref(), Some("https://l/m?p=2"));
        assert_eq!(
            next_in(r#"<https://l/d>; rel="differences", <https://l/m?a=1,2>; rel="next""#).as_deref(),
            Some("https://l/m?a=1,2")
        );
        assert_eq!(next_in(r#"<https://l/m>; rel="prev""#), None);
        assert_eq!(next_in(r#"<https://l/m>; rel="first next""#).as_deref(), Some("https://l/m"));
        assert_eq!(next_in("garbage"), None);
        assert_eq!(next_in("<unterminated; rel=next"), None);
    }

    #[test]
    fn members_read_status_and_default_to_active() {
        let body = br#"{"id":"x","context":{"id":"c"},"members":[
            {"user_id":"a","roles":["Learner"]},
            {"user_id":"b","roles":[],"status":"Inactive","name":"B","email":"b@x"},
            {"user_id":"c","roles":[],"status":"Deleted"},
            {"user_id":"d","roles":[],"status":"Suspended"}]}"#;
        let m = members(body).expect("a container");
        let statuses: Vec<_> = m.iter().map(|m| m.status).collect();
        assert_eq!(
            statuses,
            [MemberStatus::Active, MemberStatus::Inactive, MemberStatus::Deleted, MemberStatus::Inactive]
        );
        assert_eq!(m[1].email.as_deref(), Some("b@x"));
        assert_eq!(member_status("active"), MemberStatus::Active);
        assert_eq!(member_status("ACTIVE"), MemberStatus::Active);
        assert_eq!(member_status("http://purl.imsglobal.org/vocab/lis/v2/status#Active"), MemberStatus::Active);
        assert_eq!(member_status("deleted"), MemberStatus::Deleted);
        assert_eq!(member_status("http://purl.imsglobal.org/vocab/lis/v2/status#Deleted"), MemberStatus::Deleted);
        assert_eq!(member_status("inactive"), MemberStatus::Inactive);
        assert_eq!(member_status(""), MemberStatus::Inactive);
        assert!(members(br#"{"members":[{"roles":[]}]}"#).is_err(), "a member without user_id");
    }
}
