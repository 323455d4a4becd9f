//! Fault injection (issue 14, item 3): the emulator proxy makes a chosen AWS call fail —
//! throttled, a 5xx in the service's error shape, or its connection dropped — on every attempt the
//! SDK makes. Each write route then answers 503 `service_unavailable` with `Retry-After`, and each
//! event consumer fails (so that Lambda delivers the event again). After each failure the table and
//! the buckets are read back: an atomic route left them exactly as they were, a multi-step one left
//! a consistent state its retry finishes; then the fault is cleared, the same request or event is
//! sent again, and it succeeds. A fault on fewer attempts than the SDK makes is never seen.
//!
//! "Consistent" is checked over everything stored (see [`stored::Stored::problems`]): every space has its
//! host's membership, member and video counts match their items, hosted-space and per-member
//! quota counters match what they count, per-video data belongs to a video and a member, recording
//! locks to their video, and every object and multipart upload to the item that leads to it.

mod absorbed;
mod consumers;
mod harness;
mod routes;
mod stored;
