//! Lambda's asynchronous invocation (`InvocationType: Event`) as the local stack runs it: the
//! event is accepted at once (202) and the function's handler runs in the background; a run that
//! fails is retried `MaximumRetryAttempts` times (the function's `EventInvokeConfig`, Lambda's
//! default 2) after a short pause; after the last failure the event goes to the function's
//! on-failure destination — an SQS queue of the template — as Lambda's invocation record
//! (`requestContext.functionArn`, `condition: RetriesExhausted`, `requestPayload`, …), where
//! `scripts/replay-failed.sh` finds it and invokes the function with it again.
//!
//! Lambda waits about a minute, then two, between its attempts; here the pause is
//! `VIVID_ASYNC_RETRY_DELAY_MS` (default [`DEFAULT_RETRY_DELAY_MS`]) times the attempt.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, PoisonError},
    time::Duration,
};

use serde_json::{Value, json};
use vivid_events::EventHandler;

/// Lambda's retries of an asynchronous invocation when the function does not say.
pub const DEFAULT_RETRIES: u32 = 2;
/// The pause before the first retry locally (the second waits twice as long).
pub const DEFAULT_RETRY_DELAY_MS: u64 = 100;

/// A function's asynchronous invocation settings, from its `EventInvokeConfig`.
#[derive(Debug, Clone)]
pub struct AsyncConfig {
    /// Retries after the first failed run (0..=2).
    pub retries: u32,
    /// The on-failure destination: an SQS queue's URL.
    pub on_failure: Option<String>,
}

impl Default for AsyncConfig {
    fn default() -> Self {
        Self { retries: DEFAULT_RETRIES, on_failure: None }
    }
}

/// What happened to a function's asynchronous invocations so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AsyncCounts {
    /// Accepted and not finished yet (running, or waiting for a retry).
    pub in_flight: u64,
    /// Runs that succeeded (at the first attempt or a retry).
    pub succeeded: u64,
    /// Failed runs, retried or not.
    pub failed_runs: u64,
    /// Invocations that failed every attempt (sent to the on-failure destination, if any).
    pub exhausted: u64,
}

#[derive(Default)]
struct Inner {
    configs: OnceLock<HashMap<String, AsyncConfig>>,
    sqs: OnceLock<aws_sdk_sqs::Client>,
    queues: OnceLock<Vec<Queue>>,
    counts: Mutex<HashMap<String, AsyncCounts>>,
}

/// A queue of the template, created in the emulator.
#[derive(Debug, Clone)]
pub struct Queue {
    pub logical_id: String,
    pub name: String,
    pub url: String,
    pub arn: String,
}

fn sqs_error(e: impl std::fmt::Display) -> crate::error::StackError {
    crate::error::StackError::Config(format!("SQS: {e}"))
}

/// Creates the template's `AWS::SQS::Queue` resources (the failed-events queue) as CloudFormation
/// would, named `{stack}-{logical id}`.
pub async fn create_queues(
    sdk: &aws_config::SdkConfig,
    template: &crate::infra::template::Template,
    stack: &str,
) -> Result<Vec<Queue>, crate::error::StackError> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut queues = Vec::new();
    for (logical_id, _) in template.resources_of_type("AWS::SQS::Queue") {
        let name = format!("{stack}-{}", logical_id.to_lowercase());
        let url = sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .map_err(|e| sqs_error(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let url = url.queue_url.ok_or_else(|| sqs_error("no queue url"))?;
        let arn = format!(
            "arn:aws:sqs:{}:{}:{name}",
            crate::infra::resolve::LOCAL_REGION,
            crate::infra::resolve::LOCAL_ACCOUNT
        );
        queues.push(Queue { logical_id: logical_id.to_owned(), name, url, arn });
    }
    Ok(queues)
}

/// Each function's `EventInvokeConfig`: its retries, and the queue its on-failure destination
/// names (resolved with `resolve`: the destination is written `!GetAtt Queue.Arn`).
pub fn configs(
    functions: &[crate::infra::template::Function],
    queues: &[Queue],
    resolve: impl Fn(&serde_yaml::Value) -> Option<String>,
) -> HashMap<String, AsyncConfig> {
    let mut out = HashMap::new();
    for f in functions {
        let Some(config) = f.resource.get("Properties").and_then(|p| p.get("EventInvokeConfig")) else { continue };
        let retries = config
            .get("MaximumRetryAttempts")
            .and_then(&resolve)
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_RETRIES);
        let destination = config
            .get("DestinationConfig")
            .and_then(|d| d.get("OnFailure"))
            .and_then(|o| o.get("Destination"))
            .and_then(&resolve);
        let on_failure = destination.and_then(|arn| queues.iter().find(|q| q.arn == arn)).map(|q| q.url.clone());
        out.insert(f.name.clone(), AsyncConfig { retries, on_failure });
    }
    out
}

/// The asynchronous invocations of one stack (cheap to clone; every clone is the same).
#[derive(Clone, Default)]
pub struct AsyncInvocations {
    inner: Arc<Inner>,
}

impl AsyncInvocations {
    /// From now on, each function's runs follow `configs` (functions left out: Lambda's defaults,
    /// no destination); records go to the destinations, `queues`, through `sqs`.
    pub fn configure(&self, configs: HashMap<String, AsyncConfig>, queues: Vec<Queue>, sqs: aws_sdk_sqs::Client) {
        let _ = self.inner.configs.set(configs);
        let _ = self.inner.queues.set(queues);
        let _ = self.inner.sqs.set(sqs);
    }

    /// The URL of the template's queue `logical_id` (e.g. `FailedEventsQueue`).
    pub fn queue_url(&self, logical_id: &str) -> Option<String> {
        self.inner.queues.get()?.iter().find(|q| q.logical_id == logical_id).map(|q| q.url.clone())
    }

    /// The counts of one function.
    pub fn counts(&self, function: &str) -> AsyncCounts {
        self.count(function, |_| {})
    }

    fn count(&self, function: &str, change: impl FnOnce(&mut AsyncCounts)) -> AsyncCounts {
        let mut counts = self.inner.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let c = counts.entry(function.to_owned()).or_default();
        change(c);
        *c
    }

    /// Accepts an invocation of `function` with `event` and runs it in the background.
    pub fn spawn(&self, function: String, handler: Arc<dyn EventHandler>, event: Value) {
        self.count(&function, |c| c.in_flight += 1);
        let this = self.clone();
        tokio::spawn(async move {
            let config = this.inner.configs.get().and_then(|c| c.get(&function)).cloned().unwrap_or_default();
            let delay = std::env::var("VIVID_ASYNC_RETRY_DELAY_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_RETRY_DELAY_MS);
            let mut attempt = 0u32;
            let outcome = loop {
                attempt += 1;
                match handler.handle(event.clone()).await {
                    Ok(_) => break Ok(()),
                    Err(e) => {
                        this.count(&function, |c| c.failed_runs += 1);
                        tracing::warn!(function, attempt, error = %e, "asynchronous invocation failed");
                        if attempt > config.retries {
                            break Err(e.to_string());
                        }
                        tokio::time::sleep(Duration::from_millis(delay * u64::from(attempt))).await;
                    }
                }
            };
            match outcome {
                Ok(()) => {
                    this.count(&function, |c| c.succeeded += 1);
                }
                Err(error) => {
                    if let Some(queue) = &config.on_failure {
                        this.send_to_destination(queue, &function, attempt, event, &error).await;
                    } else {
                        tracing::error!(function, "asynchronous invocation failed every retry; no destination");
                    }
                    this.count(&function, |c| c.exhausted += 1);
                }
            }
            this.count(&function, |c| c.in_flight -= 1);
        });
    }

    /// Lambda's invocation record of an event that failed every attempt, as its on-failure
    /// destination receives it.
    async fn send_to_destination(&self, queue: &str, function: &str, attempts: u32, event: Value, error: &str) {
        let record = failure_record(function, attempts, event, error);
        let Some(sqs) = self.inner.sqs.get() else { return };
        match sqs.send_message().queue_url(queue).message_body(record.to_string()).send().await {
            Ok(_) => tracing::warn!(function, queue, "failed event sent to the on-failure destination"),
            Err(e) => tracing::error!(
                function,
                error = %aws_sdk_sqs::error::DisplayErrorContext(e),
                "the on-failure destination refused the record: the event is lost"
            ),
        }
    }
}

/// The ARN of a local function (as Lambda names it in its records: unqualified ARN and
/// `$LATEST`).
pub fn function_arn(function: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{function}",
        crate::infra::resolve::LOCAL_REGION,
        crate::infra::resolve::LOCAL_ACCOUNT
    )
}

/// The function an `Invoke` path names: a name, a partial or full ARN, with or without a
/// version or alias (`my-function`, `123456789012:function:my-function`,
/// `arn:aws:lambda:…:function:my-function:$LATEST`).
pub fn function_name(named: &str) -> &str {
    match named.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => named.split(':').next().unwrap_or(named),
    }
}

/// Lambda's record of an asynchronous invocation that failed every attempt
/// (docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
pub fn failure_record(function: &str, attempts: u32, event: Value, error: &str) -> Value {
    let now =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    json!({
        "version": "1.0",
        "timestamp": now,
        "requestContext": {
            "requestId": ulid::Ulid::new().to_string().to_lowercase(),
            "functionArn": format!("{}:$LATEST", function_arn(function)),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
        "responsePayload": { "errorType": "Error", "errorMessage": error },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invoke_path_names_its_function_however_qualified() {
        assert_eq!(function_name("deletion-worker"), "deletion-worker");
        assert_eq!(function_name("arn:aws:lambda:us-east-1:000000000000:function:deletion-worker"), "deletion-worker");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:000000000000:function:deletion-worker:$LATEST"),
            "deletion-worker"
        );
        assert_eq!(function_name("000000000000:function:import-worker"), "import-worker");
        assert_eq!(function_name("import-worker:live"), "import-worker");
    }

    #[test]
    fn a_failure_record_has_what_the_replay_reads() {
        let record = failure_record("deletion-worker", 3, json!({ "kind": "space" }), "boom");
        assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(function_name(record["requestContext"]["functionArn"].as_str().expect("arn")), "deletion-worker");
        assert_eq!(record["requestPayload"], json!({ "kind": "space" }));
    }
}
