//! `GET /videos/{videoId}/playback`: a fresh playback grant, one round trip for a studying member.
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.

use std::sync::Arc;
use vivid_api::videos::{GetPlayback, PlaybackCookies};
use vivid_cdn::CloudFrontSigner;
use vivid_config::{Config, ConfigError};
use vivid_dynamo::Table;
use vivid_secrets::Secrets;
use vivid_tokens::TokenVerifier;

pub async fn wire(cfg: Config) -> Result<GetPlayback, ConfigError> {
    let table = Arc::new(Table::from_config(&cfg)?);
    let auth = Arc::new(TokenVerifier::from_config(&cfg)?);
    let key = Secrets::new(&cfg)?.on_first_use(&cfg, "VIVID_CDN_PRIVATE_KEY_SECRET_ARN")?;
    let signer = Arc::new(CloudFrontSigner::from_secret(&cfg, key)?);
    Ok(GetPlayback { auth, catalog: table, signer, cookies: PlaybackCookies::from_config(&cfg) })
}
