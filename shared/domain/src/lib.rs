//! VIVID's domain: entities, validated types, the rules, the ports (traits) that the rules
//! depend on, and the domain's errors. It names no AWS SDK type, no HTTP type and no HTTP
//! client: adapters (`shared/adapters/*`) implement the ports, the edge (`vivid-edge`) maps the
//! errors to HTTP once, and handlers (`vivid-api`, `vivid-events`) put the two together.

pub mod access;
pub mod captions;
pub mod cascade;
pub mod connectors;
pub mod coverage;
pub mod deletion;
pub mod engagement;
pub mod error;
pub mod failure;
pub mod hls;
pub mod identity;
pub mod imports;
pub mod invitations;
pub mod lti;
pub mod mail;
pub mod media;
pub mod minutes;
pub mod notes;
pub mod oidc;
pub mod page;
pub mod playback;
pub mod quota;
pub mod rate_limit;
pub mod search;
pub mod sessions;
pub mod spaces;
pub mod step_up;
pub mod storage;
pub mod storyboard;
pub mod study_map;
pub mod tracks;
pub mod transcode;
pub mod transcripts;
pub mod types;
pub mod urls;
pub mod users;
pub mod video;
pub mod watching;
pub mod webex;
pub mod zoom;
