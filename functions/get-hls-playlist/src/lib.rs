//! `GET /videos/{videoId}/hls/{playlist}`: a video's HLS playlist with every URI it names signed,
//! for players that do not copy a query (anonymous; the playback grant in the query is checked).
//!
//! The wiring: exactly the clients and adapters this function's handler uses, built once at init.
//! The grant is checked with the CDN's public key (`VIVID_CDN_PUBLIC_KEY_PEM`): this function reads
//! no secret, and S3 only for the media bucket's objects.

use std::sync::Arc;
use vivid_api::videos::GetHlsPlaylist;
use vivid_cdn::CloudFrontGrants;
use vivid_config::{Config, ConfigError};
use vivid_domain::media::Bucket;
use vivid_s3::S3Media;

pub async fn wire(cfg: Config) -> Result<GetHlsPlaylist, ConfigError> {
    let grants = Arc::new(CloudFrontGrants::from_config(&cfg)?);
    let media = Arc::new(S3Media::from_config(&cfg, &[Bucket::Media])?);
    Ok(GetHlsPlaylist { grants, media })
}
