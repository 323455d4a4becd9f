//! The local stack's infrastructure: what stands for AWS itself, around the emulator.

pub mod account;
pub mod cors;
pub mod delivery;
pub mod emulator;
pub mod faults;
pub mod frontend;
pub mod gateway;
pub mod grants;
pub mod local_routes;
pub mod mail;
pub mod resolve;
pub mod template;
