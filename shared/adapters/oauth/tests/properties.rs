//! Properties of what the shared platform client reads from Webex and Zoom: token responses,
//! the status of API answers, and download host names. A stand-in server on loopback answers
//! with whatever each case makes up (the adapters' parsers are only reachable through HTTP).

use proptest::prelude::*;
use serde_json::{Value, json};
use vivid_domain::{
    connectors::{ConnectorError, OAuthTokens},
    types::unix_now,
};
use vivid_oauth::{ClientAuth, Hosts, PlatformHttp};
use vivid_testkit::{AnyJson, StandIn};

/// One runtime, client and stand-in per test thread (each test answers its own requests).
struct Fixture {
    rt: tokio::runtime::Runtime,
    http: PlatformHttp,
    server: StandIn,
}

thread_local! {
    static FIXTURE: &'static Fixture = Box::leak(Box::new(Fixture {
        rt: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"),
        http: PlatformHttp::new(true).expect("client"),
        server: StandIn::start(),
    }));
}

fn fixture() -> &'static Fixture {
    FIXTURE.with(|f| *f)
}

/// A JSON value of any shape, with the token response's field names often enough to matter.
fn any_json() -> impl Strategy<Value = Value> {
    AnyJson::named(&["access_token", "refresh_token", "expires_in", "refresh_token_expires_in", "token_type", "scope"])
        .depth(4, 32)
        .strategy()
}

/// A token response as Webex and Zoom send it, with lifetimes of any size.
fn token_response() -> impl Strategy<Value = Value> {
    (
        "[A-Za-z0-9._-]{1,60}",
        "[A-Za-z0-9._-]{1,60}",
        // Up to half of u64: lifetimes that overflow the clock are `a_lifetime_beyond_the_clock_saturates`.
        prop_oneof![0u64..2_000_000, 0..=u64::MAX / 2],
        prop::option::of(prop_oneof![0u64..2_000_000_000, 0..=u64::MAX / 2]),
        any::<bool>(),
    )
        .prop_map(|(access, refresh, expires, refresh_expires, extra)| {
            let mut v = json!({ "access_token": access, "refresh_token": refresh, "expires_in": expires });
            if let Some(r) = refresh_expires {
                v["refresh_token_expires_in"] = json!(r);
            }
            if extra {
                v["token_type"] = json!("Bearer");
                v["scope"] = json!("recording:read");
            }
            v
        })
}

/// What a token response must give: the tokens, when it has them in the documented types.
/// (serde also reads a struct from an array of its fields in declaration order.)
fn expected_tokens(v: &Value) -> Option<(String, String, u64, Option<u64>)> {
    let (access, expires, refresh, refresh_expires) = match v {
        Value::Object(o) => {
            (o.get("access_token")?, o.get("expires_in")?, o.get("refresh_token")?, o.get("refresh_token_expires_in"))
        }
        Value::Array(a) if (3..=4).contains(&a.len()) => (&a[0], &a[1], &a[2], a.get(3)),
        _ => return None,
    };
    let refresh_expires = match refresh_expires {
        None | Some(Value::Null) => None,
        Some(r) => Some(r.as_u64()?),
    };
    Some((access.as_str()?.to_owned(), refresh.as_str()?.to_owned(), expires.as_u64()?, refresh_expires))
}

/// Asks for tokens and checks the answer against the response body.
fn check_token_response(body: &Value) -> Result<(), TestCaseError> {
    let Fixture { rt, http, server } = fixture();
    server.answer_bytes(200, serde_json::to_vec(body).expect("json"));
    let before = unix_now();
    let url = format!("{}/oauth/token", server.base);
    let auth = ClientAuth::Basic { id: "client", secret: "secret" };
    let got: Result<OAuthTokens, ConnectorError> =
        rt.block_on(http.token(&url, auth, &[("grant_type", "authorization_code"), ("code", "c")], true));
    let after = unix_now();
    match (expected_tokens(body), got) {
        (Some((access, refresh, expires, refresh_expires)), Ok(t)) => {
            prop_assert_eq!(t.access_token, access);
            prop_assert_eq!(t.refresh_token, refresh);
            // A lifetime beyond what the clock holds saturates: the token is simply long-lived.
            prop_assert!(
                (before.saturating_add(expires)..=after.saturating_add(expires)).contains(&t.access_expires_at),
                "expires_in {} gave {}",
                expires,
                t.access_expires_at
            );
            let r = refresh_expires.unwrap_or(15 * 365 * 24 * 3600);
            prop_assert!((before.saturating_add(r)..=after.saturating_add(r)).contains(&t.refresh_expires_at));
        }
        (None, Err(ConnectorError::Unavailable(_))) => {}
        (expected, got) => prop_assert!(false, "{} -> {:?}, expected {:?}", body, got, expected),
    }
    Ok(())
}

proptest! {
    /// A token response with the tokens gives them, with expiry times counted from now; a body
    /// without them (any other JSON) is `Unavailable`, never a panic.
    #[test]
    fn token_responses_give_the_tokens_or_unavailable(body in prop_oneof![token_response(), any_json()]) {
        check_token_response(&body)?;
    }

    /// A token response with one field removed or replaced by any JSON value.
    #[test]
    fn mutated_token_responses_give_the_tokens_or_unavailable(
        body in token_response(),
        field in prop::sample::select(vec!["access_token", "refresh_token", "expires_in", "refresh_token_expires_in"]),
        new in prop::option::of(any_json()),
    ) {
        let mut body = body;
        let map = body.as_object_mut().expect("object");
        match new {
            Some(v) => { map.insert(field.to_owned(), v); }
            None => { map.remove(field); }
        }
        check_token_response(&body)?;
    }

    /// Bytes that are not JSON at all are `Unavailable`.
    #[test]
    fn a_token_response_that_is_no_json_is_unavailable(body in prop::collection::vec(any::<u8>(), 0..64)) {
        prop_assume!(serde_json::from_slice::<Value>(&body).is_err());
        let Fixture { rt, http, server } = fixture();
        server.answer_bytes(200, body);
        let url = format!("{}/oauth/token", server.base);
        let got = rt.block_on(http.token(&url, ClientAuth::Form { id: "c", secret: "s" }, &[], false));
        prop_assert!(matches!(got, Err(ConnectorError::Unavailable(_))), "{:?}", got);
    }

    /// A refused token request is a bad code (code flow) or a dead refresh token; a failing
    /// token endpoint is `Unavailable`.
    #[test]
    fn token_request_statuses_map_to_their_errors(
        status in prop_oneof![400u16..=431, 500u16..=511],
        code_flow in any::<bool>(),
        body in any_json(),
    ) {
        let Fixture { rt, http, server } = fixture();
        server.answer_bytes(status, serde_json::to_vec(&body).expect("json"));
        let url = format!("{}/oauth/token", server.base);
        let got = rt.block_on(http.token(&url, ClientAuth::Basic { id: "c", secret: "s" }, &[], code_flow));
        match status {
            400..=499 if code_flow => prop_assert!(matches!(got, Err(ConnectorError::BadCode)), "{:?}", got),
            400..=499 => prop_assert!(matches!(got, Err(ConnectorError::ReconnectRequired)), "{:?}", got),
            _ => prop_assert!(matches!(got, Err(ConnectorError::Unavailable(_))), "{:?}", got),
        }
    }

    /// An API answer's status decides the outcome: 2xx is the answer, 401 a refused token, 404
    /// no such thing, 400/422 a refused request, 429 rate limiting, anything else unavailable.
    #[test]
    fn api_statuses_map_to_their_errors(
        status in prop_oneof![200u16..=203, 206u16..=208, 300u16..=308, 400u16..=431, 500u16..=511],
        retry_after in prop::option::of(prop_oneof![60u64..100_000, Just(u64::MAX)]),
    ) {
        let Fixture { rt, http, server } = fixture();
        let headers = retry_after.map(|s| vec![("retry-after".to_owned(), s.to_string())]).unwrap_or_default();
        server.answer_with(status, headers, "{}");
        let got = rt.block_on(http.get(&format!("{}/recordings", server.base), "token"));
        let ok = match status {
            200..=299 => got.as_ref().is_ok_and(|r| r.status().as_u16() == status),
            401 => matches!(got, Err(ConnectorError::Unauthorized)),
            404 => matches!(got, Err(ConnectorError::NotFound)),
            400 | 422 => matches!(got, Err(ConnectorError::Rejected(_))),
            429 => matches!(&got, Err(ConnectorError::RateLimited(w)) if w.map(|d| d.as_secs()) == retry_after),
            _ => matches!(got, Err(ConnectorError::Unavailable(_))),
        };
        prop_assert!(ok, "{} -> {:?}", status, got.map(|r| r.status()));
    }

    /// Download hosts: `name` allows exactly that host, `*.name` any subdomain of it (not the
    /// name itself, not a look-alike), in any letter case.
    #[test]
    fn download_hosts_match_exactly_or_as_subdomains(
        domain in "[a-z0-9-]{1,10}\\.(us|com)",
        sub in "[a-zA-Z0-9-]{1,10}(\\.[a-z0-9-]{1,10}){0,2}",
        prefix in "[a-zA-Z0-9-]{1,10}",
        host in "[a-zA-Z0-9.-]{0,30}",
    ) {
        let exact = Hosts::new([format!(" {} ", domain.to_uppercase())]);
        let wild = Hosts::new([format!("*.{domain}")]);
        let below = format!("{sub}.{domain}");
        let look_alike = format!("{prefix}{domain}");
        let above = format!("{domain}.{prefix}");
        prop_assert!(exact.allows(&domain) && exact.allows(&domain.to_uppercase()));
        prop_assert!(!exact.allows(&below));
        prop_assert!(wild.allows(&below) && wild.allows(&below.to_uppercase()), "{}", below);
        prop_assert!(!wild.allows(&domain));
        prop_assert!(!wild.allows(&look_alike), "{}", look_alike);
        prop_assert!(!wild.allows(&above), "{}", above);
        // Any host at all: allowed only if it is the domain or ends with ".domain".
        let h = host.to_ascii_lowercase();
        prop_assert_eq!(exact.allows(&host), h == domain);
        let dot_domain = format!(".{domain}");
        prop_assert_eq!(wild.allows(&host), h.len() > dot_domain.len() && h.ends_with(&dot_domain));
        prop_assert!(!Hosts::new(Vec::<String>::new()).allows(&host));
    }
}

/// A token lifetime so large that now + lifetime overflows a u64 (a platform's answer we do not
/// control) gives a token that never expires, not a panic (debug) or an expiry in the past
/// (release, where the sum wraps and every use refreshes).
#[test]
fn a_lifetime_beyond_the_clock_saturates() {
    for (expires, refresh_expires) in
        [(u64::MAX, None), (3600, Some(u64::MAX)), (u64::MAX - 1_000, Some(u64::MAX - 1_000))]
    {
        let mut body = json!({ "access_token": "a", "refresh_token": "r", "expires_in": expires });
        if let Some(r) = refresh_expires {
            body["refresh_token_expires_in"] = json!(r);
        }
        check_token_response(&body).expect("saturated expiry times");
    }
}
