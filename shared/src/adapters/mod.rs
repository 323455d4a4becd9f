//! AWS implementations of the ports.

pub mod dynamo;
pub mod mediaconvert;
pub mod s3;
