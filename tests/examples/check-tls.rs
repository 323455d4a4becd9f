//! `make check-tls REGIONS="us-east-1 eu-central-1"`: one call to every AWS service the
//! functions call, in each region given, through the HTTPS client the functions use in Lambda
//! (`vivid_config::tls`: AWS's five roots compiled in, or what `VIVID_TLS_TRUST` says, read as
//! the functions read it), each to the endpoint the service's own SDK resolves — regular and FIPS.
//!
//! Needs the internet and nothing else: the calls are signed with made-up credentials, so AWS
//! answers 400 or 403, and any HTTP answer passes (the handshake verified). A refused handshake,
//! or no answer, fails, named. A FIPS endpoint that does not exist in the region (no DNS name, or
//! none in the SDK's rules) is reported as such, not as a failure. Not part of `make test`, which
//! runs without the internet; run it before deploying to a partition or region not checked yet
//! (docs/deploying.md, "The trust store").
//!
//! Services: DynamoDB, S3 (path and virtual-hosted), Secrets Manager, KMS, Lambda, MediaConvert,
//! Transcribe and SES v2 — the `aws-sdk-*` crates of shared/adapters. STS is not among them: in
//! Lambda the credentials come from the environment and no function calls STS.

use std::{
    process::ExitCode,
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::{
    config::{
        ConfigBag, Credentials, Intercept, RuntimeComponents, SharedHttpClient,
        interceptors::BeforeTransmitInterceptorContextRef,
    },
    error::{BoxError, SdkError},
};
use vivid_config::tls::{self, Trust};

/// The URI of the request a client sent last.
#[derive(Debug, Clone, Default)]
struct SentTo(Arc<Mutex<Option<String>>>);

impl Intercept for SentTo {
    fn name(&self) -> &'static str {
        "SentTo"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(mut sent) = self.0.lock() {
            *sent = Some(context.request().uri().to_owned());
        }
        Ok(())
    }
}

impl SentTo {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|s| s.clone())
    }
}

enum Outcome {
    /// An HTTP answer: the handshake verified.
    Answered(u16),
    /// The endpoint's name does not resolve, or the SDK's endpoint rules have none.
    NoEndpoint(String),
    /// A refused handshake, a timeout, anything else.
    Failed(String),
}

/// An error and its causes, one line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if parts.last().is_none_or(|last| !last.ends_with(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn outcome<T, E>(result: Result<T, SdkError<E>>) -> Outcome
where
    E: std::error::Error + Send + Sync + 'static,
{
    let err = match result {
        Ok(_) => return Outcome::Answered(200),
        Err(err) => err,
    };
    if let Some(raw) = err.raw_response() {
        return Outcome::Answered(raw.status().as_u16());
    }
    let text = chain(&err);
    match &err {
        SdkError::DispatchFailure(d) if d.is_io() && text.contains("dns error") => Outcome::NoEndpoint(text),
        _ => Outcome::Failed(text),
    }
}

const SERVICES: [&str; 9] =
    ["dynamodb", "s3", "s3 (virtual-hosted)", "secretsmanager", "kms", "lambda", "mediaconvert", "transcribe", "sesv2"];

/// One call to `service` with `sdk` (made-up credentials): where it went and what came back.
async fn probe(service: &str, sdk: &SdkConfig) -> (String, Outcome) {
    let sent = SentTo::default();
    macro_rules! client {
        ($krate:ident) => {
            $krate::Client::from_conf($krate::config::Builder::from(sdk).interceptor(sent.clone()).build())
        };
    }
    let result = match service {
        "dynamodb" => outcome(client!(aws_sdk_dynamodb).list_tables().limit(1).send().await),
        "s3" => outcome(client!(aws_sdk_s3).list_buckets().max_buckets(1).send().await),
        "s3 (virtual-hosted)" => {
            outcome(client!(aws_sdk_s3).head_bucket().bucket("vivid-check-tls-no-such-bucket").send().await)
        }
        "secretsmanager" => outcome(client!(aws_sdk_secretsmanager).list_secrets().max_results(1).send().await),
        "kms" => outcome(client!(aws_sdk_kms).list_keys().limit(1).send().await),
        "lambda" => outcome(client!(aws_sdk_lambda).list_functions().max_items(1).send().await),
        "mediaconvert" => outcome(client!(aws_sdk_mediaconvert).list_jobs().max_results(1).send().await),
        "transcribe" => outcome(client!(aws_sdk_transcribe).list_transcription_jobs().max_results(1).send().await),
        "sesv2" => outcome(client!(aws_sdk_sesv2).get_account().send().await),
        other => Outcome::Failed(format!("unknown service {other}")),
    };
    match (sent.get(), result) {
        // Nothing sent: the SDK's endpoint rules have no such endpoint (FIPS in a partition
        // without it, a region they do not know).
        (None, Outcome::Failed(why)) => ("(no request sent)".to_owned(), Outcome::NoEndpoint(why)),
        (url, result) => (url.unwrap_or_else(|| "(no request sent)".to_owned()), result),
    }
}

async fn sdk_config(region: &str, fips: bool, http: SharedHttpClient) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new("AKIDVIVIDCHECKTLS", "made-up", None, None, "check-tls"))
        .http_client(http)
        .use_fips(fips)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await
}

#[tokio::main]
async fn main() -> ExitCode {
    let regions: Vec<String> = std::env::args().skip(1).collect();
    if regions.is_empty() {
        eprintln!("usage: check-tls REGION...   (e.g. us-east-1 eu-central-1 cn-north-1)");
        return ExitCode::from(2);
    }
    let trust = match Trust::from_var(std::env::var(tls::TRUST_VAR).ok().as_deref()) {
        Ok(trust) => trust,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let http = match tls::aws_https_client_with(trust) {
        Ok(http) => http,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!("trust store: {trust:?} ({}={:?})", tls::TRUST_VAR, std::env::var(tls::TRUST_VAR).ok());
    // The SDK's own configuration applies (profile, environment): say when it moves the calls.
    for (name, value) in std::env::vars().filter(|(n, _)| n.starts_with("AWS_ENDPOINT_URL")) {
        println!("note: {name}={value} is set: the URLs below show where the calls went");
    }
    let mut probes = tokio::task::JoinSet::new();
    for (r, region) in regions.iter().enumerate() {
        for fips in [false, true] {
            let sdk = sdk_config(region, fips, http.clone()).await;
            for (s, service) in SERVICES.iter().enumerate() {
                let sdk = sdk.clone();
                let region = region.clone();
                probes.spawn(async move {
                    let (url, outcome) = probe(service, &sdk).await;
                    ((r, fips, s), region, *service, fips, url, outcome)
                });
            }
        }
    }
    let mut results = probes.join_all().await;
    results.sort_by_key(|(order, ..)| *order);
    // A FIPS endpoint counts as absent only where the service's regular endpoint resolved.
    let resolved: Vec<(String, &str)> = results
        .iter()
        .filter(|(_, _, _, fips, _, outcome)| !fips && !matches!(outcome, Outcome::NoEndpoint(_)))
        .map(|(_, region, service, ..)| (region.clone(), *service))
        .collect();
    let (mut passed, mut failed, mut absent, mut skipped) = (0, 0, 0, 0);
    for (_, region, service, fips, url, outcome) in &results {
        let name = format!("{region:<15} {service}{}", if *fips { " (FIPS)" } else { "" });
        match outcome {
            Outcome::Answered(status) => {
                passed += 1;
                println!("pass  {name:<42} HTTP {status}  {url}");
            }
            Outcome::NoEndpoint(why) if *fips && resolved.contains(&(region.clone(), service)) => {
                absent += 1;
                println!("none  {name:<42} no FIPS endpoint here  {url}\n      {why}");
            }
            Outcome::NoEndpoint(_) if *fips => {
                skipped += 1;
                println!("skip  {name:<42} (its regular endpoint did not resolve either)");
            }
            Outcome::NoEndpoint(why) | Outcome::Failed(why) => {
                failed += 1;
                println!("FAIL  {name:<42} {url}\n      {why}");
            }
        }
    }
    println!(
        "{passed} verified (an HTTP answer), {failed} failed, {absent} FIPS endpoints not in these regions, \
         {skipped} FIPS checks skipped"
    );
    let unresolved =
        results.iter().filter(|(_, _, _, fips, _, outcome)| !fips && matches!(outcome, Outcome::NoEndpoint(_))).count();
    if passed == 0 && unresolved == failed {
        println!("no endpoint's name resolved: is this machine on the internet?");
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
