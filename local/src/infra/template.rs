//! Reads what the local stack needs out of `template.yaml`: the HTTP routes with the function
//! that serves each, and the table definition. The template stays the one route table.

use std::path::Path;

use serde_yaml::Value;
use vivid_api::fallback::RouteTable;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template: {0}")]
    Io(#[from] std::io::Error),
    #[error("the template is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template: {0}")]
    Shape(String),
}

/// The route key (and, in the template, the path) of an HTTP API's `$default` route.
pub const DEFAULT_ROUTE: &str = "$default";

/// One `HttpApi` event of a function. The `$default` route (an event without `Path` and
/// `Method`, as SAM writes it) is method `ANY`, path [`DEFAULT_ROUTE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    /// The function's package name: the last segment of its `CodeUri` (`functions/<name>`).
    pub function: String,
    /// The template's logical id of the function.
    pub logical_id: String,
}

impl Route {
    /// The route key API Gateway puts in the event: `GET /spaces`, or `$default`.
    pub fn key(&self) -> String {
        if self.is_default() { DEFAULT_ROUTE.to_owned() } else { format!("{} {}", self.method, self.path) }
    }

    /// Whether this is the `$default` route: taken when no other route matches.
    pub fn is_default(&self) -> bool {
        self.path == DEFAULT_ROUTE
    }
}

/// A function resource of the template.
#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    pub name: String,
    pub resource: Value,
}

#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

/// A key attribute: name and key type (`HASH`/`RANGE`).
#[derive(Debug, Clone)]
pub struct KeyDef {
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct IndexDef {
    pub name: String,
    pub keys: Vec<KeyDef>,
    pub projection: String,
    pub non_key_attributes: Vec<String>,
}

/// The `AWS::DynamoDB::Table` of the template.
#[derive(Debug, Clone)]
pub struct TableDef {
    pub logical_id: String,
    /// Attribute name and scalar type (`S`, `N`, `B`).
    pub attributes: Vec<(String, String)>,
    pub keys: Vec<KeyDef>,
    pub indexes: Vec<IndexDef>,
    pub ttl_attribute: Option<String>,
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn shape(msg: impl Into<String>) -> TemplateError {
    TemplateError::Shape(msg.into())
}

fn key_defs(v: Option<&Value>) -> Result<Vec<KeyDef>, TemplateError> {
    v.and_then(Value::as_sequence)
        .ok_or_else(|| shape("KeySchema missing"))?
        .iter()
        .map(|k| {
            Ok(KeyDef {
                name: str_at(k, "AttributeName").ok_or_else(|| shape("AttributeName missing"))?.to_owned(),
                kind: str_at(k, "KeyType").ok_or_else(|| shape("KeyType missing"))?.to_owned(),
            })
        })
        .collect()
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        Self::parse(&std::fs::read_to_string(path)?)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        Ok(Self { root: serde_yaml::from_str(text)? })
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(k, v)| k.as_str().map(|k| (k, v)))
    }

    pub fn resources_of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.resources().filter(move |(_, v)| str_at(v, "Type") == Some(kind))
    }

    /// Every `AWS::Serverless::Function`, named after its `CodeUri` folder.
    pub fn functions(&self) -> Result<Vec<Function>, TemplateError> {
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(id, res)| {
                let props = res.get("Properties").ok_or_else(|| shape(format!("{id}: no Properties")))?;
                let code_uri = str_at(props, "CodeUri").ok_or_else(|| shape(format!("{id}: no CodeUri")))?;
                let name = code_uri
                    .trim_end_matches('/')
                    .strip_prefix("functions/")
                    .ok_or_else(|| shape(format!("{id}: CodeUri must be functions/<name>")))?;
                Ok(Function { logical_id: id.to_owned(), name: name.to_owned(), resource: res.clone() })
            })
            .collect()
    }

    /// Every `HttpApi` event of every function, the `$default` route included (at most one).
    pub fn routes(&self) -> Result<Vec<Route>, TemplateError> {
        let mut routes: Vec<Route> = Vec::new();
        for f in self.functions()? {
            let events = f.resource.get("Properties").and_then(|p| p.get("Events")).and_then(Value::as_mapping);
            for (_, event) in events.into_iter().flat_map(|m| m.iter()) {
                if str_at(event, "Type") != Some("HttpApi") {
                    continue;
                }
                let props =
                    event.get("Properties").ok_or_else(|| shape(format!("{}: event without Properties", f.name)))?;
                // SAM: neither Path nor Method (or Path `$default`) makes the API's default route.
                let (path, method) = match (str_at(props, "Path"), str_at(props, "Method")) {
                    (None | Some(DEFAULT_ROUTE), None) => (DEFAULT_ROUTE, "ANY"),
                    (Some(DEFAULT_ROUTE), Some(m)) if m.eq_ignore_ascii_case("ANY") => (DEFAULT_ROUTE, "ANY"),
                    (Some(DEFAULT_ROUTE), Some(_)) => {
                        return Err(shape(format!("{}: the $default route takes every method (ANY)", f.name)));
                    }
                    (Some(path), Some(method)) => (path, method),
                    (None, Some(_)) => return Err(shape(format!("{}: HttpApi event without Path", f.name))),
                    (Some(_), None) => return Err(shape(format!("{}: HttpApi event without Method", f.name))),
                };
                let route = Route {
                    method: method.to_uppercase(),
                    path: path.to_owned(),
                    function: f.name.clone(),
                    logical_id: f.logical_id.clone(),
                };
                if let Some(other) = routes.iter().find(|r| r.key() == route.key()) {
                    return Err(shape(format!("{} is served by both {} and {}", route.key(), other.function, f.name)));
                }
                routes.push(route);
            }
        }
        Ok(routes)
    }

    /// The route table the `$default` route's function answers from (`VIVID_ROUTES`): every
    /// route but `$default`, as [`RouteTable`] writes it.
    pub fn route_table(&self) -> Result<RouteTable, TemplateError> {
        let routes = self.routes()?;
        Ok(RouteTable::from_routes(
            routes.iter().filter(|r| !r.is_default()).map(|r| (r.method.as_str(), r.path.as_str())),
        ))
    }

    /// The one DynamoDB table.
    pub fn table(&self) -> Result<TableDef, TemplateError> {
        let mut tables = self.resources_of_type("AWS::DynamoDB::Table");
        let (id, res) = tables.next().ok_or_else(|| shape("no AWS::DynamoDB::Table"))?;
        if tables.next().is_some() {
            return Err(shape("more than one table: the data model is single-table"));
        }
        let props = res.get("Properties").ok_or_else(|| shape("table without Properties"))?;
        let attributes = props
            .get("AttributeDefinitions")
            .and_then(Value::as_sequence)
            .ok_or_else(|| shape("AttributeDefinitions missing"))?
            .iter()
            .map(|a| {
                Ok((
                    str_at(a, "AttributeName").ok_or_else(|| shape("AttributeName missing"))?.to_owned(),
                    str_at(a, "AttributeType").ok_or_else(|| shape("AttributeType missing"))?.to_owned(),
                ))
            })
            .collect::<Result<_, TemplateError>>()?;
        let keys = key_defs(props.get("KeySchema"))?;
        let indexes = props
            .get("GlobalSecondaryIndexes")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .map(|i| {
                Ok(IndexDef {
                    name: str_at(i, "IndexName").ok_or_else(|| shape("IndexName missing"))?.to_owned(),
                    keys: key_defs(i.get("KeySchema"))?,
                    projection: i
                        .get("Projection")
                        .and_then(|p| str_at(p, "ProjectionType"))
                        .unwrap_or("ALL")
                        .to_owned(),
                    non_key_attributes: i
                        .get("Projection")
                        .and_then(|p| p.get("NonKeyAttributes"))
                        .and_then(Value::as_sequence)
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect(),
                })
            })
            .collect::<Result<_, TemplateError>>()?;
        let ttl_attribute = props
            .get("TimeToLiveSpecification")
            .filter(|t| t.get("Enabled").and_then(Value::as_bool) == Some(true))
            .and_then(|t| str_at(t, "AttributeName"))
            .map(str::to_owned);
        Ok(TableDef { logical_id: id.to_owned(), attributes, keys, indexes, ttl_attribute })
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    pub fn has_resource(&self, logical_id: &str) -> bool {
        self.resources().any(|(id, _)| id == logical_id)
    }

    /// A resource's properties.
    pub fn properties(&self, logical_id: &str) -> Option<&Value> {
        self.resources().find(|(id, _)| *id == logical_id).and_then(|(_, r)| r.get("Properties"))
    }
}

/// Matches a request path against a route path with `{param}` segments; the parameters on a
/// match, percent-decoded.
pub fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let pat: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let got: Vec<&str> = path.trim_matches('/').split('/').collect();
    if pat.len() != got.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, g) in pat.iter().zip(&got) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if g.is_empty() {
                return None;
            }
            let value = percent_encoding::percent_decode_str(g).decode_utf8().ok()?;
            params.push((name.to_owned(), value.into_owned()));
        } else if p != g {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_with_parameters() {
        assert_eq!(match_path("/spaces", "/spaces"), Some(vec![]));
        assert_eq!(
            match_path("/spaces/{spaceId}/members/{userId}", "/spaces/a/members/b%20c"),
            Some(vec![("spaceId".into(), "a".into()), ("userId".into(), "b c".into())])
        );
        assert_eq!(match_path("/spaces/{spaceId}", "/spaces"), None);
        assert_eq!(match_path("/spaces/{spaceId}", "/spaces/"), None);
        assert_eq!(match_path("/spaces/{spaceId}", "/videos/a"), None);
    }

    fn template_with(events: &[&str]) -> String {
        let mut t = String::from("Resources:\n");
        for (i, props) in events.iter().enumerate() {
            t.push_str(&format!(
                "  F{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: functions/f{i}\n      \
                 Events:\n        Api:\n          Type: HttpApi\n          Properties:\n            ApiId: x\n{props}"
            ));
        }
        t
    }

    #[test]
    fn an_event_without_path_and_method_is_the_default_route() {
        let t = Template::parse(&template_with(&[
            "            Path: /spaces\n            Method: get\n",
            "",
            "            Path: /spaces\n            Method: POST\n",
        ]))
        .expect("parses");
        let routes = t.routes().expect("routes");
        let keys: Vec<String> = routes.iter().map(Route::key).collect();
        assert_eq!(keys, ["GET /spaces", "$default", "POST /spaces"]);
        assert!(routes[1].is_default() && routes[1].method == "ANY" && routes[1].function == "f1");
        assert_eq!(t.route_table().expect("table").to_string(), "/spaces=GP");

        let explicit = Template::parse(&template_with(&["            Path: $default\n            Method: ANY\n"]));
        assert!(explicit.expect("parses").routes().expect("routes")[0].is_default());
    }

    #[test]
    fn a_second_default_route_or_a_route_served_twice_is_refused() {
        for events in [
            &["", ""][..],
            &["", "            Path: $default\n"][..],
            &["            Path: /a\n            Method: GET\n", "            Path: /a\n            Method: get\n"][..],
            &["            Path: $default\n            Method: GET\n"][..],
            &["            Path: /a\n"][..],
            &["            Method: GET\n"][..],
        ] {
            let t = Template::parse(&template_with(events)).expect("parses");
            assert!(t.routes().is_err(), "{events:?}");
        }
    }
}
