//! Talking to STS: sending the checked request ([`client`]) over pooled connections
//! ([`pool`], [`connection`]) in one bounded HTTP/1.1 exchange ([`http1`]), and reading its
//! answer strictly ([`answer`]).

pub mod answer;
pub mod client;
pub mod connection;
pub mod http1;
pub mod origin;
pub mod pool;

pub use answer::CallerIdentity;
pub use client::{StsClient, StsClientError, StsError};
