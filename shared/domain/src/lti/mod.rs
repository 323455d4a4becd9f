//! LTI 1.3 Advantage, the tool side: a course in an LMS (Canvas, Moodle, Blackboard,
//! Brightspace, Open edX) opens VIVID inside its pages. The platform signs its messages with its
//! key; the tool signs its own (deep-linking responses, the client assertion of the services'
//! OAuth 2 grant) with the tool key behind [`signer::ToolSigner`].

pub mod dynamic;
pub mod grades;
pub mod launch;
pub mod launcher;
pub mod manual;
pub mod model;
pub mod roster;
pub mod services;
pub mod signer;
