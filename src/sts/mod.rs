//! Talking to STS: forwarding a checked `GetCallerIdentity` request and reading what STS
//! answers (security rules 11 to 14).

pub mod answer;
