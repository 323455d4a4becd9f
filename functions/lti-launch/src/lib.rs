//! `POST /lti/launch`: the LMS's ID token checked; 302 to the front end with a one-time code. A
//! managing launch starts the roster worker (`lti-roster-worker`, at most once per course in ten
//! minutes).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::lti::LtiLaunch;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    lti::launcher::Lti,
    transcripts::{DEFAULT_VAR, Transcription},
};
use vivid_dynamo::Table;
use vivid_lambda::LambdaInvoker;
use vivid_lti::HttpPlatformKeys;

pub async fn wire(cfg: Config) -> Result<LtiLaunch, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let keys = Arc::new(HttpPlatformKeys::new(cfg.flag("VIVID_ALLOW_PRIVATE_DOWNLOADS")));
    let roster_worker = Arc::new(LambdaInvoker::roster_worker(&cfg)?);
    Ok(LtiLaunch {
        lti: Arc::new(
            Lti::on(table.clone(), keys)
                .with_roster_sync(table, roster_worker)
                // The stack's TranscriptionDefault (on unless off), for the course spaces it creates.
                .with_transcription(Transcription::for_new_space(cfg.optional(DEFAULT_VAR).as_deref())),
        ),
        frontend_url: cfg.var("VIVID_FRONTEND_URL")?,
    })
}
