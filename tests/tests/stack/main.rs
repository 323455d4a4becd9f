//! The black-box tier in one test binary: every module starts local stacks of its own (the
//! gateway, the very handlers, an emulator of its own) and speaks HTTP to them. One binary, not one
//! per file: each would link the whole AWS SDK again (about 120 MB apiece), and nextest still runs
//! every test in a process of its own. One module: `cargo nextest run -p vivid-tests -E 'test(/^spaces::/)'`.

mod auth;
mod authorization;
mod bookmarks;
mod captions;
mod class_progress;
mod consistency;
mod deployment;
mod emulator;
mod end_to_end;
mod events;
mod faults;
mod grants;
mod hls_native;
mod invitation_abuse;
mod invitations;
mod lecture_order;
mod limits;
mod lti_deep_link;
mod lti_grades;
mod lti_launch;
mod lti_registrations;
mod lti_roster_route;
mod lti_services;
mod members;
mod minutes;
mod notes;
mod oidc_signin;
mod pipeline;
mod platform_grants;
mod rate_limits;
mod removal;
mod roles;
mod routes;
mod search;
mod session_hardening;
mod sessions;
mod spaces;
mod storage_quota;
mod storyboards;
mod sweep;
mod transcoding;
mod transcripts;
mod two_stacks;
mod uploads;
mod vendor_aws;
mod vendor_fixtures;
mod vendor_platforms;
mod videos;
mod web_client;
mod webex;
mod zoom;
mod zoom_roles;
mod zoom_webhook;
