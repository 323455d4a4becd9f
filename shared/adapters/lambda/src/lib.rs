//! Starts the background workers (the import worker, the deletion worker, the LTI grade and roster
//! workers):
//! Lambda `Invoke` with `InvocationType: Event` (Lambda retries a failed run, and the function's
//! on-failure destination keeps what fails every retry for replay).

use async_trait::async_trait;
use aws_sdk_lambda::{
    config::http::HttpResponse,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    primitives::Blob,
    types::InvocationType,
};
use vivid_config::{Config, ConfigError, OnDemand};
use vivid_domain::{
    deletion::{Deletion, DeletionInvoker},
    imports::{ImportInvoker, ImportJob, InvokeError},
    lti::{
        grades::{GradeInvoker, GradeJob},
        roster::{RosterInvoker, RosterJob},
    },
};

pub struct LambdaInvoker {
    client: OnDemand<aws_sdk_lambda::Client>,
    function: String,
}

impl LambdaInvoker {
    /// The import worker, named by `VIVID_IMPORT_WORKER_FUNCTION`.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Self::named(cfg, "VIVID_IMPORT_WORKER_FUNCTION")
    }

    /// The deletion worker, named by `VIVID_DELETION_WORKER_FUNCTION`.
    pub fn deletion_worker(cfg: &Config) -> Result<Self, ConfigError> {
        Self::named(cfg, "VIVID_DELETION_WORKER_FUNCTION")
    }

    /// The LTI grade worker, named by `VIVID_LTI_GRADE_WORKER_FUNCTION`.
    pub fn grade_worker(cfg: &Config) -> Result<Self, ConfigError> {
        Self::named(cfg, "VIVID_LTI_GRADE_WORKER_FUNCTION")
    }

    /// The LTI roster worker, named by `VIVID_LTI_ROSTER_WORKER_FUNCTION`.
    pub fn roster_worker(cfg: &Config) -> Result<Self, ConfigError> {
        Self::named(cfg, "VIVID_LTI_ROSTER_WORKER_FUNCTION")
    }

    fn named(cfg: &Config, var: &'static str) -> Result<Self, ConfigError> {
        Ok(Self { client: OnDemand::new(cfg, aws_sdk_lambda::Client::new)?, function: cfg.var(var)? })
    }

    /// Invokes the function with `job` as its event, without waiting for it.
    async fn send<T: serde::Serialize + Sync>(&self, job: &T) -> Result<(), InvokeError> {
        let payload = serde_json::to_vec(job).map_err(|e| InvokeError::Failed(e.to_string()))?;
        self.client
            .get()
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| {
                let unavailable = is_unavailable(&e);
                let cause = DisplayErrorContext(e).to_string();
                if unavailable { InvokeError::Unavailable(cause) } else { InvokeError::Failed(cause) }
            })?;
        Ok(())
    }
}

#[async_trait]
impl ImportInvoker for LambdaInvoker {
    async fn start(&self, job: &ImportJob) -> Result<(), InvokeError> {
        self.send(job).await
    }
}

#[async_trait]
impl DeletionInvoker for LambdaInvoker {
    async fn start(&self, job: &Deletion) -> Result<(), InvokeError> {
        self.send(job).await
    }
}

#[async_trait]
impl GradeInvoker for LambdaInvoker {
    async fn start(&self, job: &GradeJob) -> Result<(), InvokeError> {
        self.send(job).await
    }
}

#[async_trait]
impl RosterInvoker for LambdaInvoker {
    async fn start(&self, job: &RosterJob) -> Result<(), InvokeError> {
        self.send(job).await
    }
}

/// Lambda's error codes that mean "not now" (throttled, or the service briefly failing).
const RETRYABLE_CODES: &[&str] = &[
    "TooManyRequestsException",
    "EC2ThrottledException",
    "ServiceException",
    "ResourceNotReadyException",
    "ThrottlingException",
];

/// Whether an `Invoke` that failed may pass when tried again later: throttled, a 5xx, a timeout,
/// a connection that failed or broke off (after the SDK's own retries).
fn is_unavailable<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(f) => !f.is_user(),
        SdkError::ServiceError(s) => {
            let status = s.raw().status();
            status.is_server_error()
                || status.as_u16() == 429
                || s.err().code().is_some_and(|code| RETRYABLE_CODES.contains(&code))
        }
        _ => false,
    }
}
