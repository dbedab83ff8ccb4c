//! The caller side: a backend service gets internal tokens in one line and never thinks
//! about signing, caching or expiry again.
//!
//! ```no_run
//! # async fn example() -> Result<(), internal_auth::client::ClientError> {
//! use internal_auth::client::TokenClient;
//!
//! let client = TokenClient::builder()
//!     .url("https://internal-auth.example")
//!     .server_id("internal-auth.prod")
//!     .org_id("66")
//!     .build()
//!     .await?;
//!
//! // Cached, and refreshed before it expires: call it for every outgoing request.
//! let token = client.token().await?;
//! let header = format!("Bearer {}", token.as_str());
//! # let _ = header;
//! # Ok(())
//! # }
//! ```
//!
//! Each refresh signs an STS `GetCallerIdentity` request with the service's own AWS
//! credentials (aws-config's default chain unless overridden) and posts it to internal-auth,
//! which asks STS who signed it. The credentials never leave the process; only the
//! signature, and the session token of temporary credentials, do.
//!
//! Concurrent callers share one refresh. A refresh that fails while the cached token is
//! still valid is logged and the cached token is used. Busy answers (429, 502, 503, 504)
//! and lost connections are retried with backoff until the deadline; refusals (4xx) are
//! not.

mod answer;
mod backoff;
mod builder;
mod cache;
mod error;
mod mint;
mod signing;
mod token;

use std::fmt;
use std::sync::Arc;

pub use builder::{DEFAULT_DEADLINE, DEFAULT_REFRESH_AT, TokenClientBuilder};
pub use error::ClientError;
pub use token::Token;

use cache::TokenCache;
use mint::Minter;

/// Gets internal-auth tokens and caches them. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<Inner>,
}

struct Inner {
    cache: TokenCache,
    minter: Minter,
}

impl TokenClient {
    /// Settings for a new client; see [`TokenClientBuilder`].
    pub fn builder() -> TokenClientBuilder {
        TokenClientBuilder::default()
    }

    /// A valid token: the cached one while it is fresh, otherwise a new one.
    ///
    /// While the cached token is fresh this takes no async lock and allocates nothing. A
    /// refresh is shared by every caller that needs one at the same time, and bounded by
    /// the deadline set on the builder.
    pub async fn token(&self) -> Result<Token, ClientError> {
        if let Some(token) = self.inner.cache.fresh() {
            return Ok(token);
        }
        // Boxed so that the future of the fast path stays small.
        let inner = &self.inner;
        Box::pin(inner.cache.get(|deadline| inner.minter.mint(deadline))).await
    }
}

impl fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minter = &self.inner.minter;
        f.debug_struct("TokenClient")
            .field("token_url", &minter.token_url.as_str())
            .field("server_id", &minter.server_id)
            .field("org_id", &minter.org_id)
            .field("sts_url", &minter.sts.url())
            .finish_non_exhaustive()
    }
}
