//! Who the caller is: the principal STS vouched for, and the configured service it maps to
//! (security rules 14 to 19).
//!
//! [`ServiceDirectory::map`] takes the [`CallerIdentity`](crate::sts::answer::CallerIdentity)
//! read from STS's answer, cross-checks its three fields against each other (rule 14), reads
//! the ARN (rules 15 and 16) and looks the role up by partition, account and name, compared
//! as IAM compares them (rules 17 to 19).

mod arn;
mod directory;
mod names;
mod role_arn;
mod service;

pub use arn::{ArnError, CallerArn, Principal};
pub use directory::{DirectoryError, MappingError, ServiceDirectory};
pub use role_arn::{RoleArn, RoleArnError};
pub use service::{OrgIds, OrgIdsError, ServiceIdentity};
