//! `POST /zoom/webhook`: Zoom's signed events; a completed recording is imported once into each
//! linked space its linking user still manages; `app_deauthorized` forgets that Zoom user.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::zoom::ZoomWebhook;
use vivid_config::{Config, ConfigError};
use vivid_domain::zoom::WebhookSigner;
use vivid_dynamo::Table;
use vivid_lambda::LambdaInvoker;
use vivid_secrets::Secrets;

pub async fn wire(cfg: Config) -> Result<ZoomWebhook, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let secret = Secrets::new(&cfg)?.read(&cfg, "VIVID_ZOOM_WEBHOOK_SECRET_ARN").await?;
    let signer = WebhookSigner::new(&secret)
        .ok_or(ConfigError::Malformed("VIVID_ZOOM_WEBHOOK_SECRET_ARN", "an empty secret".into()))?;
    let invoker = Arc::new(LambdaInvoker::from_config(&cfg)?);
    let quotas = vivid_api::quotas(&cfg)?;
    Ok(ZoomWebhook {
        signer,
        links: table.clone(),
        spaces: table.clone(),
        connections: table.clone(),
        uploads: table.clone(),
        imports: table,
        importer: invoker,
        quotas,
    })
}
