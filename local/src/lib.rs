//! The local stack (SPEC §8): the same handlers that run in Lambda, wired by each function's
//! own `wire` from the environment `template.yaml` declares for it, behind a gateway that reads
//! the template, against a local AWS emulator.
//!
//! - [`infra`]: what stands for AWS's own machinery — the emulator and its proxy (IAM as the
//!   template grants it, faults, DynamoDB's index lag, Lambda's asynchronous invocations), the
//!   template read and resolved, the API gateway, event delivery, SES's mail, one account for
//!   several stacks.
//! - [`standins`]: the services the emulator does not have, as real HTTP servers the unchanged
//!   clients talk to — Google, Zoom and Webex, MediaConvert (jobs run with ffmpeg), Transcribe.
//! - [`stack`]: one local deployment, started in phases over both; [`functions`]: every function
//!   wired by its own `wire`.

pub mod error;
pub mod functions;
pub mod infra;
pub mod stack;
pub mod standins;
