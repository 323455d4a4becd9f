//! What can stop the local stack from starting.

use crate::infra::template::TemplateError;

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("route {route} is served by {function}, which has no wiring in vivid_local::functions")]
    NoHandler { route: String, function: String },
    #[error("function {0} has a wiring but no route in template.yaml")]
    NoRoute(String),
    #[error("cannot create the table: {0}")]
    Table(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
