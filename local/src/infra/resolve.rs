//! Resolves the template's intrinsic functions the way CloudFormation would for one local
//! deployment: parameters (given or their defaults), conditions, `Ref`, `Fn::GetAtt`, `Fn::Sub`,
//! `Fn::If`, `Fn::Join`, `Fn::Select` and the pseudo parameters. The local stack uses it to hand
//! each function the environment the template declares for it, and to name the buckets.

use std::collections::HashMap;

use serde_yaml::Value;

use crate::infra::template::{Template, TemplateError};

/// The region `AWS::Region` resolves to locally (the ARNs the local stack checks grants against).
pub const LOCAL_REGION: &str = "us-east-1";
/// The account `AWS::AccountId` resolves to locally.
pub const LOCAL_ACCOUNT: &str = "000000000000";
/// The partition `AWS::Partition` resolves to locally.
pub const LOCAL_PARTITION: &str = "aws";

/// What `Ref` and `Fn::GetAtt` of the resources resolve to locally.
#[derive(Debug, Clone, Default)]
pub struct Physical {
    /// Logical id → `Ref` value.
    pub refs: HashMap<String, String>,
    /// `Logical.Attribute` → `Fn::GetAtt` value.
    pub attributes: HashMap<String, String>,
}

/// One local deployment's view of the template.
pub struct Resolver<'a> {
    template: &'a Template,
    parameters: HashMap<String, String>,
    physical: Physical,
    pseudo: HashMap<&'static str, String>,
}

/// `AWS::NoValue`: the property is left out.
struct NoValue;

fn shape(msg: impl Into<String>) -> TemplateError {
    TemplateError::Shape(msg.into())
}

impl<'a> Resolver<'a> {
    /// `given` parameters over the template's defaults; `stack` names the deployment.
    pub fn new(
        template: &'a Template,
        given: &HashMap<String, String>,
        physical: Physical,
        stack: &str,
    ) -> Result<Self, TemplateError> {
        let mut parameters = HashMap::new();
        let declared = template.root().get("Parameters").and_then(Value::as_mapping);
        for (name, decl) in declared.into_iter().flatten() {
            let Some(name) = name.as_str() else { continue };
            let value = match given.get(name) {
                Some(v) => v.clone(),
                None => match decl.get("Default") {
                    Some(d) => scalar(d).ok_or_else(|| shape(format!("parameter {name}: default is not a scalar")))?,
                    None => return Err(shape(format!("parameter {name} has no default and no local value"))),
                },
            };
            parameters.insert(name.to_owned(), value);
        }
        let pseudo = HashMap::from([
            ("AWS::Region", LOCAL_REGION.to_owned()),
            ("AWS::AccountId", LOCAL_ACCOUNT.to_owned()),
            ("AWS::StackName", stack.to_owned()),
            ("AWS::URLSuffix", "amazonaws.com".to_owned()),
            ("AWS::Partition", LOCAL_PARTITION.to_owned()),
        ]);
        Ok(Self { template, parameters, physical, pseudo })
    }

    /// A string value; `Ok(None)` for `AWS::NoValue`.
    pub fn string(&self, v: &Value) -> Result<Option<String>, TemplateError> {
        match self.eval(v)? {
            Ok(v) => Ok(Some(v)),
            Err(NoValue) => Ok(None),
        }
    }

    fn reference(&self, name: &str) -> Result<Result<String, NoValue>, TemplateError> {
        if name == "AWS::NoValue" {
            return Ok(Err(NoValue));
        }
        if let Some(v) = self.pseudo.get(name).or_else(|| self.parameters.get(name)) {
            return Ok(Ok(v.clone()));
        }
        if let Some(v) = self.physical.refs.get(name) {
            return Ok(Ok(v.clone()));
        }
        if self.template.has_resource(name) {
            // A resource the local stack does not stand in for: its logical id is its name here.
            return Ok(Ok(name.to_owned()));
        }
        Err(shape(format!("Ref to unknown {name}")))
    }

    fn attribute(&self, logical: &str, attr: &str) -> Result<String, TemplateError> {
        let key = format!("{logical}.{attr}");
        if let Some(v) = self.physical.attributes.get(&key) {
            return Ok(v.clone());
        }
        if !self.template.has_resource(logical) {
            return Err(shape(format!("GetAtt of unknown {logical}")));
        }
        Ok(match attr {
            "Arn" => format!("arn:aws:local:us-east-1:000000000000:{logical}"),
            _ => format!("{logical}-{attr}"),
        })
    }

    fn condition(&self, name: &str) -> Result<bool, TemplateError> {
        let cond = self
            .template
            .root()
            .get("Conditions")
            .and_then(|c| c.get(name))
            .ok_or_else(|| shape(format!("unknown condition {name}")))?;
        self.truth(cond)
    }

    fn truth(&self, v: &Value) -> Result<bool, TemplateError> {
        let (func, arg) = intrinsic(v).ok_or_else(|| shape("a condition must be an intrinsic function"))?;
        let list = || arg.as_sequence().ok_or_else(|| shape(format!("{func} takes a list")));
        match func {
            "Fn::Equals" => {
                let l = list()?;
                let side = |i: usize| -> Result<Option<String>, TemplateError> {
                    l.get(i).map(|x| self.string(x)).transpose().map(Option::flatten)
                };
                Ok(side(0)? == side(1)?)
            }
            "Fn::Not" => Ok(!self.truth(list()?.first().ok_or_else(|| shape("Fn::Not of nothing"))?)?),
            "Fn::And" => list()?.iter().try_fold(true, |acc, c| Ok(acc && self.truth(c)?)),
            "Fn::Or" => list()?.iter().try_fold(false, |acc, c| Ok(acc || self.truth(c)?)),
            "Condition" => self.condition(arg.as_str().ok_or_else(|| shape("Condition takes a name"))?),
            other => Err(shape(format!("{other} in a condition"))),
        }
    }

    fn eval(&self, v: &Value) -> Result<Result<String, NoValue>, TemplateError> {
        if let Some(s) = scalar(v) {
            return Ok(Ok(s));
        }
        let (func, arg) = intrinsic(v).ok_or_else(|| shape(format!("cannot resolve {v:?}")))?;
        let list = || arg.as_sequence().ok_or_else(|| shape(format!("{func} takes a list")));
        match func {
            "Ref" => self.reference(arg.as_str().ok_or_else(|| shape("Ref takes a name"))?),
            "Fn::GetAtt" => {
                let (logical, attr) = match arg {
                    Value::String(s) => s.split_once('.').ok_or_else(|| shape("GetAtt takes Logical.Attribute"))?,
                    Value::Sequence(parts) => (
                        parts.first().and_then(Value::as_str).ok_or_else(|| shape("GetAtt of nothing"))?,
                        parts.get(1).and_then(Value::as_str).ok_or_else(|| shape("GetAtt without attribute"))?,
                    ),
                    _ => return Err(shape("GetAtt takes Logical.Attribute")),
                };
                Ok(Ok(self.attribute(logical, attr)?))
            }
            "Fn::Sub" => {
                let (text, vars) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    Value::Sequence(parts) => (
                        parts.first().and_then(Value::as_str).ok_or_else(|| shape("Sub without a string"))?,
                        parts.get(1),
                    ),
                    _ => return Err(shape("Sub takes a string")),
                };
                Ok(Ok(self.substitute(text, vars)?))
            }
            "Fn::If" => {
                let l = list()?;
                let name = l.first().and_then(Value::as_str).ok_or_else(|| shape("If without a condition"))?;
                let branch = if self.condition(name)? { l.get(1) } else { l.get(2) };
                self.eval(branch.ok_or_else(|| shape("If without branches"))?)
            }
            "Fn::Join" => {
                let l = list()?;
                let delim = l.first().and_then(Value::as_str).unwrap_or_default();
                let items = l.get(1).and_then(Value::as_sequence).ok_or_else(|| shape("Join without a list"))?;
                let mut out = Vec::new();
                for item in items {
                    if let Ok(s) = self.eval(item)? {
                        out.push(s);
                    }
                }
                Ok(Ok(out.join(delim)))
            }
            "Fn::Select" => {
                let l = list()?;
                let index: usize = l
                    .first()
                    .and_then(scalar)
                    .and_then(|i| i.parse().ok())
                    .ok_or_else(|| shape("Select without an index"))?;
                let items = l.get(1).and_then(Value::as_sequence).ok_or_else(|| shape("Select without a list"))?;
                self.eval(items.get(index).ok_or_else(|| shape("Select out of range"))?)
            }
            other => Err(shape(format!("{other} is not resolved locally"))),
        }
    }

    fn substitute(&self, text: &str, vars: Option<&Value>) -> Result<String, TemplateError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| shape(format!("unclosed ${{ in {text}")))?;
            let name = &after[..end];
            let value = match vars.and_then(|v| v.get(name)) {
                Some(v) => self.string(v)?.unwrap_or_default(),
                None => match name.split_once('.') {
                    Some((logical, attr)) if !name.starts_with("AWS::") => self.attribute(logical, attr)?,
                    _ => self.reference(name)?.unwrap_or_default(),
                },
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The environment the template gives a function: `Globals.Function.Environment` under the
    /// function's own, every value resolved; `AWS::NoValue` entries left out.
    pub fn environment(&self, logical_id: &str) -> Result<HashMap<String, String>, TemplateError> {
        let root = self.template.root();
        let globals = root
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .and_then(|e| e.get("Variables"));
        let own = root
            .get("Resources")
            .and_then(|r| r.get(logical_id))
            .and_then(|f| f.get("Properties"))
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"));
        let mut env = HashMap::new();
        for vars in [globals, own].into_iter().flatten() {
            for (name, value) in vars.as_mapping().into_iter().flatten() {
                let Some(name) = name.as_str() else { continue };
                match self.string(value)? {
                    Some(v) => env.insert(name.to_owned(), v),
                    None => env.remove(name),
                };
            }
        }
        Ok(env)
    }
}

/// A scalar as CloudFormation sees it (numbers and booleans as text).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `(function, argument)` of a short-form tag (`!Ref X`) or a long-form mapping (`{Ref: X}`).
fn intrinsic(v: &Value) -> Option<(&str, &Value)> {
    match v {
        Value::Tagged(t) => {
            let func = match t.tag.to_string().trim_start_matches('!') {
                "Ref" => "Ref",
                "Sub" => "Fn::Sub",
                "GetAtt" => "Fn::GetAtt",
                "If" => "Fn::If",
                "Join" => "Fn::Join",
                "Select" => "Fn::Select",
                "Equals" => "Fn::Equals",
                "Not" => "Fn::Not",
                "And" => "Fn::And",
                "Or" => "Fn::Or",
                "Condition" => "Condition",
                _ => return None,
            };
            Some((func, &t.value))
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next()?;
            let k = k.as_str()?;
            (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k, arg))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  Domain:
    Type: String
    Default: ""
  Origin:
    Type: String
Conditions:
  HasDomain: !Not [!Equals [!Ref Domain, ""]]
Globals:
  Function:
    Environment:
      Variables:
        TABLE: !Ref Table
        GONE: keep
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Bucket:
    Type: AWS::S3::Bucket
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn
      Environment:
        Variables:
          BUCKET: !Sub "${AWS::StackName}-raw-${AWS::AccountId}"
          DOMAINS: !If [HasDomain, !Ref Domain, !Sub "*.execute-api.${AWS::Region}.${AWS::URLSuffix}"]
          ARN: !GetAtt Bucket.Arn
          ORIGIN: {"Fn::Join": [",", [!Ref Origin, "b"]]}
          GONE: !Ref AWS::NoValue
"#;

    #[test]
    fn a_function_gets_its_environment_resolved() {
        let t = Template::parse(TEMPLATE).expect("parses");
        let physical = Physical { refs: HashMap::from([("Table".to_owned(), "t-1".to_owned())]), ..Default::default() };
        let given = HashMap::from([("Origin".to_owned(), "http://a".to_owned())]);
        let env =
            Resolver::new(&t, &given, physical.clone(), "stack").expect("resolver").environment("Fn").expect("env");
        assert_eq!(env.get("TABLE").map(String::as_str), Some("t-1"));
        assert_eq!(env.get("BUCKET").map(String::as_str), Some("stack-raw-000000000000"));
        assert_eq!(env.get("DOMAINS").map(String::as_str), Some("*.execute-api.us-east-1.amazonaws.com"));
        assert_eq!(env.get("ARN").map(String::as_str), Some("arn:aws:local:us-east-1:000000000000:Bucket"));
        assert_eq!(env.get("ORIGIN").map(String::as_str), Some("http://a,b"));
        assert!(!env.contains_key("GONE"));
        let given = HashMap::from([("Origin".to_owned(), "o".to_owned()), ("Domain".to_owned(), "api.x".to_owned())]);
        let env = Resolver::new(&t, &given, physical, "stack").expect("resolver").environment("Fn").expect("env");
        assert_eq!(env.get("DOMAINS").map(String::as_str), Some("api.x"));
    }

    #[test]
    fn a_parameter_without_default_or_value_is_an_error() {
        let t = Template::parse(TEMPLATE).expect("parses");
        assert!(Resolver::new(&t, &HashMap::new(), Physical::default(), "s").is_err());
    }
}
