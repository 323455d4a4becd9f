//! Event delivery of the local stack, as AWS does it:
//! - S3 object-created events: the emulator's own bucket notifications (the real S3 event shape)
//!   into one SQS queue per subscription of the template (bucket and prefix as the template's
//!   `S3` events say), polled and handed to the subscribed function's handler;
//! - EventBridge: the MediaConvert stand-in's job-state events, matched against the template's
//!   rule and handed to the subscribed function's handler.

use std::{sync::Arc, time::Duration};

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration,
    S3KeyFilter,
};
use serde_json::Value;
use serde_yaml::Value as Yaml;
use std::collections::HashMap;
use tokio::{sync::mpsc, task::JoinHandle};

use vivid_events::EventHandler;

use crate::{error::StackError, infra::template::Template};

/// One S3 subscription of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Subscription {
    pub function: String,
    /// The bucket's logical id in the template.
    pub bucket: String,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

/// One EventBridge subscription of the template: the function and its pattern.
#[derive(Debug, Clone)]
pub struct RuleSubscription {
    pub function: String,
    pub pattern: Value,
}

/// A rule's pattern with `!Ref AWS::StackName` and `!Sub "...${AWS::StackName}..."` resolved (the
/// only references the template's patterns make).
fn resolve_pattern(pattern: &Yaml, stack: &str) -> Yaml {
    let sub = |text: &str| Yaml::String(text.replace("${AWS::StackName}", stack));
    match pattern {
        Yaml::Tagged(t) if t.tag == "!Ref" && t.value.as_str() == Some("AWS::StackName") => {
            Yaml::String(stack.to_owned())
        }
        Yaml::Mapping(m) if m.get("Ref").and_then(Yaml::as_str) == Some("AWS::StackName") && m.len() == 1 => {
            Yaml::String(stack.to_owned())
        }
        Yaml::Tagged(t) if t.tag == "!Sub" && t.value.is_string() => sub(t.value.as_str().unwrap_or_default()),
        Yaml::Mapping(m) if m.len() == 1 && m.get("Fn::Sub").is_some_and(Yaml::is_string) => {
            sub(m.get("Fn::Sub").and_then(Yaml::as_str).unwrap_or_default())
        }
        Yaml::Mapping(m) => Yaml::Mapping(m.iter().map(|(k, v)| (k.clone(), resolve_pattern(v, stack))).collect()),
        Yaml::Sequence(s) => Yaml::Sequence(s.iter().map(|v| resolve_pattern(v, stack)).collect()),
        other => other.clone(),
    }
}

/// The `S3` and `EventBridgeRule` events of the template's functions (`stack`: the stack's name,
/// which rule patterns may reference).
pub fn subscriptions(
    template: &Template,
    stack: &str,
) -> Result<(Vec<S3Subscription>, Vec<RuleSubscription>), StackError> {
    let mut s3 = Vec::new();
    let mut rules = Vec::new();
    for f in template.functions()? {
        let events = f.resource.get("Properties").and_then(|p| p.get("Events")).and_then(Yaml::as_mapping);
        for (_, event) in events.into_iter().flatten() {
            let props = event.get("Properties");
            match event.get("Type").and_then(Yaml::as_str) {
                Some("S3") => {
                    let bucket = props.and_then(|p| p.get("Bucket")).and_then(|b| match b {
                        Yaml::Tagged(t) if t.tag == "!Ref" => t.value.as_str().map(str::to_owned),
                        other => other.get("Ref").and_then(Yaml::as_str).map(str::to_owned),
                    });
                    let rule = |name: &str| {
                        props
                            .and_then(|p| p.get("Filter"))
                            .and_then(|f| f.get("S3Key"))
                            .and_then(|k| k.get("Rules"))
                            .and_then(Yaml::as_sequence)
                            .and_then(|rules| rules.iter().find(|r| r.get("Name").and_then(Yaml::as_str) == Some(name)))
                            .and_then(|r| r.get("Value"))
                            .and_then(Yaml::as_str)
                            .map(str::to_owned)
                    };
                    let bucket =
                        bucket.ok_or_else(|| StackError::Config(format!("{}: S3 event without Bucket", f.name)))?;
                    s3.push(S3Subscription {
                        function: f.name.clone(),
                        bucket,
                        prefix: rule("prefix"),
                        suffix: rule("suffix"),
                    });
                }
                Some("EventBridgeRule") => {
                    let pattern =
                        props.and_then(|p| p.get("Pattern")).map(|p| resolve_pattern(p, stack)).unwrap_or(Yaml::Null);
                    let pattern = serde_json::to_value(&pattern).map_err(|e| StackError::Config(e.to_string()))?;
                    rules.push(RuleSubscription { function: f.name.clone(), pattern });
                }
                _ => {}
            }
        }
    }
    Ok((s3, rules))
}

/// Whether an event matches an EventBridge pattern (exact values and `{"prefix": …}` in lists,
/// nested objects: the subset the template uses).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(k, p)| matches(p, event.get(k).unwrap_or(&Value::Null))),
        Value::Array(allowed) => allowed.iter().any(|a| match a.get("prefix").and_then(Value::as_str) {
            Some(prefix) => event.as_str().is_some_and(|e| e.starts_with(prefix)),
            None => a == event,
        }),
        Value::Null => true,
        other => other == event,
    }
}

/// How many of the bus's last events are kept (a long `make dev` session keeps no more).
pub const KEPT_EVENTS: usize = 1000;

/// The running deliveries; stop when dropped.
pub struct Delivery {
    tasks: Vec<JoinHandle<()>>,
    /// Where the MediaConvert stand-in sends job-state events.
    pub events: mpsc::UnboundedSender<Value>,
    /// The last [`KEPT_EVENTS`] events sent on the bus, in order (what the stand-ins emitted, for
    /// tests to compare with the vendors' samples).
    pub sent: Arc<std::sync::Mutex<std::collections::VecDeque<Value>>>,
    /// How many events each function was invoked with (S3 notifications and rules).
    pub invocations: Invocations,
}

/// Invocations per function.
pub type Invocations = Arc<std::sync::Mutex<HashMap<String, u64>>>;

impl Drop for Delivery {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn sqs_error(e: impl std::fmt::Display) -> StackError {
    StackError::Config(format!("SQS: {e}"))
}

impl Delivery {
    pub async fn start(
        sdk: &aws_config::SdkConfig,
        template: &Template,
        buckets: &HashMap<String, String>,
        prefix: &str,
        handlers: Handlers,
    ) -> Result<Self, StackError> {
        let (s3_subs, rule_subs) = subscriptions(template, prefix)?;
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
        let mut tasks = Vec::new();
        let mut per_bucket: Vec<(String, Vec<QueueConfiguration>)> = Vec::new();
        let invocations: Invocations = Arc::default();
        // One queue per function, however many filters it subscribes with.
        let mut queues: HashMap<String, String> = HashMap::new();
        for sub in s3_subs {
            let bucket = buckets
                .get(&sub.bucket)
                .map(String::as_str)
                .ok_or_else(|| StackError::Config(format!("{}: unknown bucket {}", sub.function, sub.bucket)))?
                .to_owned();
            let arn = match queues.get(&sub.function) {
                Some(arn) => arn.clone(),
                None => {
                    let queue_url = sqs
                        .create_queue()
                        .queue_name(format!("{prefix}-{}", sub.function))
                        .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "5")
                        .send()
                        .await
                        .map_err(sqs_error)?
                        .queue_url
                        .ok_or_else(|| sqs_error("no queue url"))?;
                    let arn = sqs
                        .get_queue_attributes()
                        .queue_url(&queue_url)
                        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                        .send()
                        .await
                        .map_err(sqs_error)?
                        .attributes
                        .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
                        .ok_or_else(|| sqs_error("no queue arn"))?;
                    tasks.push(tokio::spawn(poll(
                        sqs.clone(),
                        queue_url,
                        sub.function.clone(),
                        Arc::clone(&handlers),
                        Arc::clone(&invocations),
                    )));
                    queues.insert(sub.function.clone(), arn.clone());
                    arn
                }
            };
            let mut config = QueueConfiguration::builder().queue_arn(arn).events(Event::from("s3:ObjectCreated:*"));
            let rules: Vec<FilterRule> = [(FilterRuleName::Prefix, &sub.prefix), (FilterRuleName::Suffix, &sub.suffix)]
                .into_iter()
                .filter_map(|(name, value)| value.as_ref().map(|v| FilterRule::builder().name(name).value(v).build()))
                .collect();
            if !rules.is_empty() {
                config = config.filter(
                    NotificationConfigurationFilter::builder()
                        .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                        .build(),
                );
            }
            let config = config.build().map_err(|e| StackError::Config(e.to_string()))?;
            match per_bucket.iter_mut().find(|(b, _)| *b == bucket) {
                Some((_, configs)) => configs.push(config),
                None => per_bucket.push((bucket, vec![config])),
            }
        }
        for (bucket, configs) in per_bucket {
            s3.put_bucket_notification_configuration()
                .bucket(&bucket)
                .notification_configuration(
                    NotificationConfiguration::builder().set_queue_configurations(Some(configs)).build(),
                )
                .send()
                .await
                .map_err(|e| {
                    StackError::Config(format!(
                        "notifications of {bucket}: {}",
                        aws_sdk_s3::error::DisplayErrorContext(e)
                    ))
                })?;
        }
        let (events, mut rx) = mpsc::unbounded_channel::<Value>();
        let sent: Arc<std::sync::Mutex<std::collections::VecDeque<Value>>> = Arc::default();
        let log = Arc::clone(&sent);
        let counts = Arc::clone(&invocations);
        tasks.push(tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if let Ok(mut log) = log.lock() {
                    if log.len() == KEPT_EVENTS {
                        log.pop_front();
                    }
                    log.push_back(event.clone());
                }
                for rule in rule_subs.iter().filter(|r| matches(&r.pattern, &event)) {
                    invoke(&handlers, &counts, &rule.function, event.clone()).await;
                }
            }
        }));
        Ok(Self { tasks, events, sent, invocations })
    }
}

type Handlers = Arc<HashMap<String, Arc<dyn EventHandler>>>;

async fn invoke(handlers: &Handlers, counts: &Invocations, function: &str, event: Value) -> bool {
    if let Ok(mut counts) = counts.lock() {
        *counts.entry(function.to_owned()).or_default() += 1;
    }
    let Some(handler) = handlers.get(function) else {
        tracing::error!(function, "no handler for a subscribed function");
        return false;
    };
    match handler.handle(event).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(function, error = %e, "event handler failed; the event will be delivered again");
            false
        }
    }
}

/// Brings the emulator's S3 record to the shape S3 really sends: it leaves out `userIdentity`,
/// `requestParameters` and `responseElements`, and escapes `/` in keys, which S3 does not.
pub fn as_s3_sends_it(mut event: Value) -> Value {
    if let Some(records) = event.get_mut("Records").and_then(Value::as_array_mut) {
        for r in records {
            let Some(obj) = r.as_object_mut() else { continue };
            obj.entry("userIdentity").or_insert_with(|| serde_json::json!({ "principalId": "AWS:LOCAL" }));
            obj.entry("requestParameters").or_insert_with(|| serde_json::json!({ "sourceIPAddress": "127.0.0.1" }));
            obj.entry("responseElements")
                .or_insert_with(|| serde_json::json!({ "x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL" }));
            if let Some(key) = r.pointer_mut("/s3/object/key")
                && let Some(k) = key.as_str()
            {
                *key = Value::String(k.replace("%2F", "/"));
            }
        }
    }
    event
}

/// Long-polls a queue and hands each S3 event to the function; a failed one is redelivered
/// after the visibility timeout, like Lambda's retries.
async fn poll(sqs: aws_sdk_sqs::Client, queue_url: String, function: String, handlers: Handlers, counts: Invocations) {
    loop {
        let received =
            sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).wait_time_seconds(1).send().await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "SQS receive failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        for m in messages {
            let Some(body) = m.body.as_deref().and_then(|b| serde_json::from_str::<Value>(b).ok()) else { continue };
            let done = if body.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
                true
            } else {
                invoke(&handlers, &counts, &function, as_s3_sends_it(body)).await
            };
            if done && let Some(handle) = m.receipt_handle {
                let _ = sqs.delete_message().queue_url(&queue_url).receipt_handle(handle).send().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_eventbridge() {
        let pattern = serde_json::json!({ "source": ["aws.mediaconvert"], "detail": { "userMetadata": { "application": ["vivid"] } } });
        let ok = serde_json::json!({ "source": "aws.mediaconvert", "detail": { "status": "COMPLETE", "userMetadata": { "application": "vivid" } } });
        let other = serde_json::json!({ "source": "aws.mediaconvert", "detail": { "userMetadata": { "application": "else" } } });
        assert!(matches(&pattern, &ok));
        assert!(!matches(&pattern, &other));
        assert!(!matches(&pattern, &serde_json::json!({ "source": "aws.s3" })));
    }

    #[test]
    fn each_stack_s_transcribe_rule_matches_its_own_jobs_only() {
        let template = Template::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
            .expect("template");
        let rule = |stack: &str| {
            let (_, rules) = subscriptions(&template, stack).expect("subscriptions");
            rules.into_iter().find(|r| r.function == "on-transcribe-event").expect("a rule").pattern
        };
        let job = |name: &str| {
            serde_json::json!({ "source": "aws.transcribe", "detail-type": "Transcribe Job State Change",
                                "detail": { "TranscriptionJobName": name, "TranscriptionJobStatus": "COMPLETED" } })
        };
        let video = "01JD6Q5C7B8D9E0F1G2H3J4K5M";
        // Two stacks of one account, one name extending the other's.
        let (vivid, dev) = (rule("vivid"), rule("vivid-dev"));
        assert!(matches(&vivid, &job(&format!("vivid_{video}"))));
        assert!(matches(&dev, &job(&format!("vivid-dev_{video}"))));
        assert!(!matches(&vivid, &job(&format!("vivid-dev_{video}"))));
        assert!(!matches(&dev, &job(&format!("vivid_{video}"))));
    }
}
