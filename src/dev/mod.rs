//! Development mode without an AWS account: an in-process STS stand-in and the credentials
//! it trusts.
//!
//! - [`sigv4`]: plain SigV4, the `Authorization` header and the signature, with no STS policy.

pub mod amz_date;
pub mod sigv4;
