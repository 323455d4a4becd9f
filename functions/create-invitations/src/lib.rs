//! `POST /spaces/{spaceId}/invitations`: a shareable code, or e-mail invitations in bulk (host, co-host).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::invitations::CreateInvitations;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_ses::SesMailer;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<CreateInvitations, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let mailer = Arc::new(SesMailer::from_config(&cfg)?);
    let frontend = cfg.var("VIVID_INVITATION_URL")?;
    let quotas = vivid_api::quotas(&cfg)?;
    Ok(CreateInvitations {
        auth,
        spaces: table.clone(),
        users: table.clone(),
        invitations: table,
        mailer,
        frontend,
        quotas,
    })
}
