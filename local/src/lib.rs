//! The local stack (SPEC §8): the same handlers that run in Lambda, wired by each function's
//! own `wire` from the environment `template.yaml` declares for it, behind a gateway that reads
//! the template, against a local AWS emulator.

pub mod account;
pub mod delivery;
pub mod emulator;
pub mod error;
pub mod faults;
pub mod ffmpeg;
pub mod functions;
pub mod gateway;
pub mod google;
pub mod grants;
pub mod local_routes;
pub mod mail;
pub mod mediaconvert;
pub mod resolve;
pub mod stack;
pub mod standin;
pub mod template;
pub mod transcribe;
pub mod webex;
pub mod zoom;
