//! Stand-ins: real HTTP servers on loopback for the services the emulator does not have, which
//! the functions' unchanged clients talk to. Each keeps what it was asked and can be told to fail.

pub mod ffmpeg;
pub mod google;
pub mod mediaconvert;
pub mod platform;
pub mod transcribe;
pub mod webex;
pub mod zoom;
