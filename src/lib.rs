//! internal-auth: backend services trade a signed STS `GetCallerIdentity` request for a
//! short-lived RS256 JWT that the platform's API gateway accepts.
//!
//! The crate has three sides, each behind a cargo feature so that a consumer builds only
//! what it uses:
//!
//! - `server` (the token service): [`forwarded`] checks a caller's signed request,
//!   [`sts`] forwards it and reads STS's answer, [`identity`] maps the caller to a
//!   configured service, [`keys`] and [`token`] sign the JWT, [`http`] serves it all.
//! - `client` (the caller side): [`client`] signs with the AWS credential chain, trades
//!   the request for a token and caches it.
//! - `verifier` (the authorizer side): [`verifier`] checks tokens from several issuers
//!   against their cached JWKS.
//!
//! # Security warning
//!
//! The token service is only as strong as its checks of the forwarded request and of
//! STS's answer; `../shared/security-rules.md` explains each one. Loosening any of them
//! (accepting another host, another body, a lenient reading of the answer) has broken
//! real services before.

pub mod clock;
pub mod error_chain;
pub mod partition;
pub mod secret;
pub mod wire;

#[cfg(feature = "server")]
pub mod amz_date;
#[cfg(feature = "server")]
pub mod app;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod dev;
#[cfg(feature = "server")]
pub mod forwarded;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod identity;
#[cfg(feature = "server")]
pub mod keys;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod replay;
#[cfg(feature = "server")]
pub mod sts;
#[cfg(feature = "server")]
pub mod token;

#[cfg(feature = "client")]
pub mod client;

#[cfg(feature = "verifier")]
pub mod verifier;

#[cfg(feature = "cli")]
pub mod cli;
