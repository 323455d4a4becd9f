//! The local stack (SPEC §8): the same handlers that run in Lambda, behind a gateway that reads
//! `template.yaml`, against a local AWS emulator.

pub mod delivery;
pub mod emulator;
pub mod ffmpeg;
pub mod gateway;
pub mod google;
pub mod local_routes;
pub mod mediaconvert;
pub mod stack;
pub mod template;
pub mod webex;
