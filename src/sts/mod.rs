//! Talking to STS: sending the checked request ([`client`]) and reading its answer
//! strictly ([`answer`]).

pub mod answer;
pub mod client;

pub use answer::CallerIdentity;
pub use client::{StsClient, StsClientError, StsError};
