//! The HTTP API's `$default` route: 405 with `Allow` for an undeclared method on a known path,
//! 404 for an unknown path.
//!
//! The wiring: the route table from the environment, no client at all.

use vivid_api::fallback::{self, NoRoute};
use vivid_config::{Config, ConfigError};

pub async fn wire(cfg: Config) -> Result<NoRoute, ConfigError> {
    Ok(NoRoute { routes: fallback::routes(&cfg)? })
}
