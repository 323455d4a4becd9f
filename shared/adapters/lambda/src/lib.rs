//! Starts the import worker: Lambda `Invoke` with `InvocationType: Event` (the function's
//! on-failure destination keeps what fails for replay).

use async_trait::async_trait;
use aws_sdk_lambda::{error::DisplayErrorContext, primitives::Blob, types::InvocationType};
use vivid_config::{Config, ConfigError};
use vivid_domain::imports::{ImportInvoker, ImportJob, InvokeError};

pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaInvoker {
    /// The worker named by `VIVID_IMPORT_WORKER_FUNCTION`.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self { client: aws_sdk_lambda::Client::new(cfg.sdk()), function: cfg.var("VIVID_IMPORT_WORKER_FUNCTION")? })
    }
}

#[async_trait]
impl ImportInvoker for LambdaInvoker {
    async fn start(&self, job: &ImportJob) -> Result<(), InvokeError> {
        let payload = serde_json::to_vec(job).map_err(|e| InvokeError(e.to_string()))?;
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| InvokeError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
