//! `POST /spaces`: the caller becomes host and first member.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::spaces::CreateSpace;
use vivid_config::{Config, ConfigError};
use vivid_domain::transcripts::{DEFAULT_VAR, Transcription};
use vivid_dynamo::Table;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<CreateSpace, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let quotas = vivid_api::quotas(&cfg)?;
    // The stack's TranscriptionDefault (on unless off).
    let transcription = Transcription::for_new_space(cfg.optional(DEFAULT_VAR).as_deref());
    Ok(CreateSpace { auth, spaces: table, quotas, transcription })
}
