//! Development mode without an AWS account: an in-process STS stand-in and the credentials
//! it trusts.
//!
//! `serve --dev` runs the service's real code path: it checks a forwarded request and sends
//! it over HTTP to its configured STS endpoint, which in development is [`StsStandIn`], bound
//! on 127.0.0.1 in the same process. The stand-in is no pass-through: it verifies each
//! request's SigV4 signature as STS does, against [`DevCredentials`] kept in the keys folder,
//! and answers with STS's own XML. Every request it accepts comes from one made-up caller:
//! the session [`DEV_SESSION_NAME`] of the role [`DEV_ROLE_ARN`] in account
//! [`DEV_ACCOUNT_ID`], which development mode maps to the service [`DEV_SERVICE_NAME`].
//!
//! - [`credentials`]: the development access key and secret, made on the first run.
//! - [`sigv4`]: plain SigV4, the `Authorization` header and the signature, with no STS policy.
//! - [`verify`]: STS's checks of a request's authentication, with STS's error codes.
//! - [`answers`]: STS's XML documents.
//! - [`standin`]: the HTTP server.

pub mod answers;
pub mod credentials;
pub mod sigv4;
pub mod standin;
pub mod verify;

pub use answers::{StsError, StsErrorCode};
pub use credentials::{CREDENTIALS_FILE_NAME, DevCredentials, DevError};
pub use standin::StsStandIn;
pub use verify::verify_signature;

/// The made-up AWS account of development mode.
pub const DEV_ACCOUNT_ID: &str = "000000000000";

/// The service identity development mode issues tokens to (`sub` and `client_id`), and the
/// name of its role.
pub const DEV_SERVICE_NAME: &str = "dev-service";

/// The role as a `[[services]]` entry names it.
pub const DEV_ROLE_ARN: &str = "arn:aws:iam::000000000000:role/dev-service";

/// The role's unique id, the `UserId` prefix STS reports; a config may pin it as
/// `unique_id`. `AROA` and 17 upper-case letters or digits, as IAM's are.
pub const DEV_ROLE_UNIQUE_ID: &str = "AROADEVSERVICE0000000";

/// The session name of every accepted caller: STS reports the name the caller chose when it
/// assumed the role, and development callers assume none, so one fixed, valid name
/// (2-64 characters of `\w+=,.@-`) stands for them all.
pub const DEV_SESSION_NAME: &str = "dev-session";

/// The ARN the stand-in reports for every accepted caller: the assumed-role session.
pub const DEV_CALLER_ARN: &str = "arn:aws:sts::000000000000:assumed-role/dev-service/dev-session";

/// The `server_id` development mode runs with; callers sign it in
/// `X-Internal-Auth-Server-Id`.
pub const DEV_SERVER_ID: &str = "internal-auth.dev";

/// The STS host development callers sign for. Any allow-listed STS host works, as long as
/// the credential scope names its region.
pub const DEV_STS_HOST: &str = "sts.us-east-1.amazonaws.com";

/// The region of [`DEV_STS_HOST`].
pub const DEV_STS_REGION: &str = "us-east-1";

#[cfg(test)]
mod tests;
