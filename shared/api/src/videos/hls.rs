//! `GET /videos/{videoId}/hls/{playlist}`: a video's HLS playlist with every URI it names signed
//! (`vivid_domain::hls`), for players that never copy the master's query to what they fetch
//! next: Safari's and iOS's native HLS, ffmpeg/ffplay, VLC. Anonymous at the API: the request
//! carries a playback grant (`GET /videos/{videoId}/playback`'s `signedQuery`), checked here with
//! the CDN's public key as CloudFront would check it, scoped to exactly this video, unexpired.

use std::sync::Arc;

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};

use vivid_domain::{
    hls::{self, GrantRefused, GrantVerifier, PlaylistName, PresentedGrant, Signing},
    media::{Bucket, MediaStore},
    types::{VideoId, unix_now},
};
use vivid_edge::{
    ApiError,
    http::{ApiRequest, Handler},
};

pub struct GetHlsPlaylist {
    /// Checks grants with the CDN's public key; knows the CDN's URL.
    pub grants: Arc<dyn GrantVerifier>,
    /// The media bucket, read only (`media/{videoId}/...`).
    pub media: Arc<dyn MediaStore>,
}

fn refused(why: GrantRefused) -> ApiError {
    ApiError::forbidden(
        "invalid_grant",
        format!("{why}: get a fresh playback grant from GET /videos/{{videoId}}/playback and play its nativeHlsUrl"),
    )
}

#[async_trait]
impl Handler for GetHlsPlaylist {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let video: VideoId = req.path("videoId")?;
        let name: PlaylistName = req.path("playlist")?;
        let (Some(policy), Some(signature), Some(key_pair_id), Some(hash_algorithm)) =
            (req.query("Policy"), req.query("Signature"), req.query("Key-Pair-Id"), req.query("Hash-Algorithm"))
        else {
            return Err(refused(GrantRefused::Missing));
        };
        let now = unix_now();
        // What each URI gets is the grant as the CDN checks it, written from its verified parts.
        let presented = PresentedGrant { policy, signature, key_pair_id, hash_algorithm };
        let grant = self.grants.verify(&video, &presented, now).map_err(refused)?;
        let key = name.key(&video);
        let bytes = self.media.get(Bucket::Media, &key).await?.ok_or(ApiError::NotFound("playlist"))?;
        let text = String::from_utf8(bytes).map_err(ApiError::internal)?;
        let signing = Signing { video: &video, cdn_url: self.grants.cdn_url(), query: &grant.query };
        let signed = hls::sign_playlist(&text, &key, &signing).map_err(|e| {
            tracing::error!(error = %e, "a playlist names media outside its video");
            ApiError::internal(e)
        })?;
        let cache = format!("private, max-age={}", hls::cache_secs(grant.ends, now));
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, HeaderValue::from_static(hls::CONTENT_TYPE))
            .header(header::CACHE_CONTROL, cache)
            .body(Body::Text(signed))
            .map_err(ApiError::internal)
    }
}
