//! The HTTP API's `$default` route: what API Gateway hands over when no route of the template
//! matches a request. A known path asked with a method it does not serve answers 405 with
//! `Allow` (RFC 9110 §15.5.6), anything else 404 — both as problem documents, where API Gateway
//! alone would answer a bare `{"message":"Not Found"}`.
//!
//! The function knows the routes from its environment ([`ROUTES_VAR`]: `path=LETTERS` entries,
//! the template's routes; a test keeps the two equal). No authorizer runs on
//! `$default` and no token is read here: the route table is public (docs/openapi.yaml), so the
//! answer is the same with or without credentials, and it tells nothing the document does not.

use std::{collections::BTreeMap, fmt, str::FromStr};

use ::http::{HeaderValue, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use vivid_config::{Config, ConfigError};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};

/// The environment variable holding the route table.
pub const ROUTES_VAR: &str = "VIVID_ROUTES";

/// The order `Allow` lists methods in; others follow alphabetically.
const METHOD_ORDER: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Each method's letter in [`ROUTES_VAR`] (`/spaces/{}=GAD`: GET, PATCH, DELETE), in
/// [`METHOD_ORDER`]: a letter per method keeps the table a third shorter than the names, and
/// Lambda's whole environment is 4 KB.
const METHOD_LETTERS: [(char, &str); 7] =
    [('G', "GET"), ('H', "HEAD"), ('P', "POST"), ('U', "PUT"), ('A', "PATCH"), ('D', "DELETE"), ('O', "OPTIONS")];

fn letter_of(method: &str) -> Option<char> {
    METHOD_LETTERS.iter().find(|(_, m)| *m == method).map(|(l, _)| *l)
}

fn method_of(letter: char) -> Option<&'static str> {
    METHOD_LETTERS.iter().find(|(l, _)| *l == letter).map(|(_, m)| *m)
}

fn method_rank(m: &str) -> (usize, &str) {
    (METHOD_ORDER.iter().position(|o| *o == m).unwrap_or(METHOD_ORDER.len()), m)
}

/// Every route path with the methods it serves. Written `path=LETTERS` per path (a letter per
/// method: [`METHOD_LETTERS`]), entries separated by white space, paths in byte order and
/// methods in `Allow` order: one text per table, so the template's value can be compared with
/// the one generated from its routes. A
/// path's parameters are written without their names (`/spaces/{}/videos`, `/media/{+}`): only
/// their places match a request, and the names would take a third of Lambda's 4 KB environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    paths: BTreeMap<String, Vec<String>>,
}

impl RouteTable {
    /// The table of `(method, path)` routes.
    pub fn from_routes<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (method, path) in routes {
            paths.entry(unnamed(path)).or_default().push(method.to_ascii_uppercase());
        }
        for methods in paths.values_mut() {
            methods.sort_by(|a, b| method_rank(a).cmp(&method_rank(b)));
            methods.dedup();
        }
        Self { paths }
    }

    /// Each path template with its methods.
    pub fn paths(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.paths.iter().map(|(p, m)| (p.as_str(), m.as_slice()))
    }

    /// The methods served on a request path (the union over every template matching it), in
    /// `Allow` order; `None` when no template matches.
    pub fn allowed(&self, path: &str) -> Option<Vec<&str>> {
        let mut found: Vec<&str> = self
            .paths
            .iter()
            .filter(|(template, _)| matches(template, path))
            .flat_map(|(_, methods)| methods.iter().map(String::as_str))
            .collect();
        if found.is_empty() {
            return None;
        }
        found.sort_by(|a, b| method_rank(a).cmp(&method_rank(b)));
        found.dedup();
        Some(found)
    }
}

impl fmt::Display for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (path, methods)) in self.paths.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let letters: String = methods.iter().filter_map(|m| letter_of(m)).collect();
            write!(f, "{path}={letters}")?;
        }
        Ok(())
    }
}

impl FromStr for RouteTable {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut paths = BTreeMap::new();
        for entry in s.split_whitespace() {
            let (path, letters) = entry.split_once('=').ok_or_else(|| format!("{entry}: not path=LETTERS"))?;
            if !path.starts_with('/') || path.contains('=') {
                return Err(format!("{entry}: the path must start with /"));
            }
            let methods: Option<Vec<String>> = letters.chars().map(|l| method_of(l).map(str::to_owned)).collect();
            let methods = methods.filter(|m| !m.is_empty()).ok_or_else(|| {
                format!("{entry}: methods are letters (G GET, H HEAD, P POST, U PUT, A PATCH, D DELETE, O OPTIONS)")
            })?;
            if paths.insert(path.to_owned(), methods).is_some() {
                return Err(format!("{path} is listed twice"));
            }
        }
        if paths.is_empty() {
            return Err("no route".to_owned());
        }
        let table = Self { paths };
        // Only the canonical text: the template's value stays comparable with the generated one.
        let canonical =
            Self::from_routes(table.paths.iter().flat_map(|(p, ms)| ms.iter().map(move |m| (m.as_str(), p.as_str()))));
        if canonical != table {
            return Err(format!("methods must be listed once each, in the order {}", METHOD_ORDER.join(",")));
        }
        Ok(table)
    }
}

/// `path` with its parameters' names left out: `{name}` as `{}`, `{name+}` as `{+}`.
pub fn unnamed(path: &str) -> String {
    path.split('/')
        .map(|seg| match (seg.starts_with('{'), seg.ends_with("+}"), seg.ends_with('}')) {
            (true, true, _) => "{+}",
            (true, false, true) => "{}",
            _ => seg,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a request path matches a route path: `{name}` takes one non-empty segment,
/// `{name+}` the non-empty rest. Leading and trailing slashes are ignored, as the local gateway
/// ignores them.
fn matches(template: &str, path: &str) -> bool {
    let mut want = template.trim_matches('/').split('/');
    let got: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut i = 0;
    for seg in want.by_ref() {
        if seg.starts_with('{') && seg.ends_with("+}") {
            return got.len() > i && got[i..].iter().any(|g| !g.is_empty());
        }
        let Some(g) = got.get(i) else { return false };
        let param = seg.starts_with('{') && seg.ends_with('}');
        if (param && g.is_empty()) || (!param && seg != *g) {
            return false;
        }
        i += 1;
    }
    i == got.len()
}

/// The route table the template gives the function ([`ROUTES_VAR`]).
pub fn routes(cfg: &Config) -> Result<RouteTable, ConfigError> {
    cfg.parsed(ROUTES_VAR)?.ok_or(ConfigError::Missing(ROUTES_VAR))
}

/// The `$default` route's handler.
pub struct NoRoute {
    pub routes: RouteTable,
}

fn with_allow(mut resp: Response<Body>, methods: &[&str]) -> Result<Response<Body>, ApiError> {
    let allow = HeaderValue::from_str(&methods.join(", ")).map_err(ApiError::internal)?;
    resp.headers_mut().insert(header::ALLOW, allow);
    Ok(resp)
}

#[async_trait]
impl Handler for NoRoute {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let method = req.method().as_str();
        let is_options = req.method() == ::http::Method::OPTIONS;
        let preflight = is_options && req.header(header::ACCESS_CONTROL_REQUEST_METHOD).is_some();
        match self.routes.allowed(req.raw_path()) {
            // API Gateway answers CORS preflights before routing. Should one reach `$default`
            // all the same (an HTTP API hands OPTIONS to a catch-all route in some set-ups), a 2xx
            // keeps the browser going: API Gateway adds the configured CORS headers to it.
            None if preflight => http::no_content(),
            None => Err(ApiError::no_route()),
            // A served method landing here means the gateway did not see this path as the table
            // does (a trailing slash, say): no such resource, not a 405 whose Allow names it.
            Some(methods) if methods.contains(&method) => Err(ApiError::no_route()),
            // RFC 9110 §9.3.7: what the resource offers.
            Some(methods) if is_options => with_allow(http::no_content()?, &methods),
            Some(methods) => with_allow(http::problem(&ApiError::MethodNotAllowed, req.request_id()), &methods),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "/spaces=GP /spaces/{}=GAD /spaces/{}/videos=GP /users/me=GD /users/me/sessions=GD";

    fn table() -> RouteTable {
        TABLE.parse().expect("table")
    }

    #[test]
    fn the_text_is_canonical_and_round_trips() {
        let t = table();
        assert_eq!(t.to_string(), TABLE.split_whitespace().collect::<Vec<_>>().join(" "));
        let built = RouteTable::from_routes([
            ("DELETE", "/users/me"),
            ("GET", "/spaces/{spaceId}/videos"),
            ("post", "/spaces"),
            ("DELETE", "/spaces/{spaceId}"),
            ("GET", "/users/me/sessions"),
            ("GET", "/spaces"),
            ("PATCH", "/spaces/{spaceId}"),
            ("POST", "/spaces/{spaceId}/videos"),
            ("GET", "/users/me"),
            ("GET", "/spaces/{spaceId}"),
            ("DELETE", "/users/me/sessions"),
        ]);
        assert_eq!(built, t);
        for bad in [
            "",
            "spaces=G",
            "/spaces",
            "/spaces=",
            "/spaces=g",
            "/spaces=GET",
            "/spaces=G,P",
            "/spaces=G /spaces=P",
            "/spaces=PG",
            "/spaces=GG",
            "/spaces/{spaceId}=G",
            "/spaces=X",
        ] {
            assert!(bad.parse::<RouteTable>().is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn a_path_matches_its_templates_and_no_other() {
        let t = table();
        assert_eq!(t.allowed("/spaces"), Some(vec!["GET", "POST"]));
        assert_eq!(t.allowed("/spaces/"), Some(vec!["GET", "POST"]));
        assert_eq!(t.allowed("/spaces/01JD6Q5C7B8D9E0F1G2H3J4K5M"), Some(vec!["GET", "PATCH", "DELETE"]));
        assert_eq!(t.allowed("/spaces/x/videos"), Some(vec!["GET", "POST"]));
        assert_eq!(t.allowed("/users/me"), Some(vec!["GET", "DELETE"]));
        for unknown in ["/", "", "/nope", "/spaces//videos", "/spaces/x/videos/y", "/users", "/users/me/x/y"] {
            assert_eq!(t.allowed(unknown), None, "{unknown}");
        }
        assert!(matches("/files/{path+}", "/files/a/b"));
        assert!(!matches("/files/{path+}", "/files"));
        assert!(!matches("/files/{path+}", "/files/"));
    }
}
