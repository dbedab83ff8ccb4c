//! A role ARN from the configuration, `arn:<partition>:iam::<account>:role/<path/>name`,
//! checked when the configuration is read so that a typo stops the start instead of
//! silently never matching.

use std::fmt;
use std::str::FromStr;

use super::arn::{ArnError, ArnParts};
use super::names::is_role_name;
use crate::partition::Partition;

/// The longest role path IAM allows.
const MAX_PATH_LEN: usize = 512;

/// A role's ARN, taken apart. `Display` prints it as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    arn: String,
    partition: Partition,
    account: String,
    path: String,
    name: String,
}

impl RoleArn {
    /// The partition.
    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// The 12-digit account id.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The role's name, as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The role's path as IAM writes it: `/` when there is none, otherwise `/a/b/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the ARN names a path. STS never reveals a path, so such an entry matches on
    /// partition, account and name alone; the start-up log says so.
    pub fn has_path(&self) -> bool {
        self.path != "/"
    }

    /// The ARN as configured.
    pub fn as_str(&self) -> &str {
        &self.arn
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// Why a configured role ARN is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleArnError {
    /// The ARN's overall shape is wrong.
    #[error(transparent)]
    Arn(#[from] ArnError),
    /// The partition is not one this build knows.
    #[error("the role ARN's partition is not aws, aws-us-gov or aws-cn")]
    UnknownPartition,
    /// The service is not `iam`.
    #[error("a role ARN names the iam service, as in arn:aws:iam::123456789012:role/name")]
    NotIam,
    /// The resource does not start with `role/`.
    #[error("the ARN does not name a role (its resource must start with role/)")]
    NotARole,
    /// The path has an empty segment or is longer than 512 characters.
    #[error("the role ARN's path has an empty segment or is longer than 512 characters")]
    Path,
    /// The name is not 1 to 64 characters of `A-Za-z0-9+=,.@_-`.
    #[error("the role name is not 1 to 64 characters of A-Z, a-z, 0-9 and +=,.@_-")]
    Name,
}

impl FromStr for RoleArn {
    type Err = RoleArnError;

    fn from_str(arn: &str) -> Result<Self, Self::Err> {
        let parts = ArnParts::split(arn)?;
        let partition =
            Partition::from_str(parts.partition).map_err(|_| RoleArnError::UnknownPartition)?;
        if parts.service != "iam" {
            return Err(RoleArnError::NotIam);
        }
        let path_and_name = parts
            .resource
            .strip_prefix("role/")
            .ok_or(RoleArnError::NotARole)?;

        let (path, name) = match path_and_name.rsplit_once('/') {
            Some((inner_path, name)) => (format!("/{inner_path}/"), name),
            None => ("/".to_string(), path_and_name),
        };
        // `ArnParts` has already held the path to printable ASCII, as IAM does.
        if path.len() > MAX_PATH_LEN || path.contains("//") {
            return Err(RoleArnError::Path);
        }
        if !is_role_name(name) {
            return Err(RoleArnError::Name);
        }

        Ok(Self {
            arn: arn.to_string(),
            partition,
            account: parts.account.to_string(),
            path,
            name: name.to_string(),
        })
    }
}

impl<'de> serde::Deserialize<'de> for RoleArn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let arn = String::deserialize(deserializer)?;
        arn.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_role_without_a_path_is_read() {
        let role: RoleArn = "arn:aws:iam::123456789012:role/billing-api"
            .parse()
            .unwrap();
        assert_eq!(role.partition(), Partition::Aws);
        assert_eq!(role.account(), "123456789012");
        assert_eq!(role.name(), "billing-api");
        assert_eq!(role.path(), "/");
        assert!(!role.has_path());
        assert_eq!(
            role.to_string(),
            "arn:aws:iam::123456789012:role/billing-api"
        );
    }

    #[test]
    fn a_role_with_a_path_keeps_it_apart_from_the_name() {
        let role: RoleArn = "arn:aws-cn:iam::123456789012:role/svc/team/payments"
            .parse()
            .unwrap();
        assert_eq!(role.partition(), Partition::AwsCn);
        assert_eq!(role.name(), "payments");
        assert_eq!(role.path(), "/svc/team/");
        assert!(role.has_path());
    }

    #[test]
    fn malformed_role_arns_say_what_is_wrong() {
        let long_path = format!("arn:aws:iam::123456789012:role/{}/r", "p".repeat(511));
        for (arn, error) in [
            ("billing-api", RoleArnError::Arn(ArnError::NotSixParts)),
            (
                "arn:aws:iam:123456789012:role/r",
                RoleArnError::Arn(ArnError::NotSixParts),
            ),
            (
                "arn:aws:iam::123456789012:role/r:x",
                RoleArnError::Arn(ArnError::NotSixParts),
            ),
            (
                "arn:aws:iam:eu-west-1:123456789012:role/r",
                RoleArnError::Arn(ArnError::Region),
            ),
            (
                "arn:aws:iam::12345678901:role/r",
                RoleArnError::Arn(ArnError::Account),
            ),
            (
                "arn:aws-iso:iam::123456789012:role/r",
                RoleArnError::UnknownPartition,
            ),
            ("arn:aws:sts::123456789012:role/r", RoleArnError::NotIam),
            (
                "arn:aws:sts::123456789012:assumed-role/r/s",
                RoleArnError::NotIam,
            ),
            ("arn:aws:iam::123456789012:user/r", RoleArnError::NotARole),
            ("arn:aws:iam::123456789012:roles/r", RoleArnError::NotARole),
            ("arn:aws:iam::123456789012:role//r", RoleArnError::Path),
            ("arn:aws:iam::123456789012:role/a//b/r", RoleArnError::Path),
            (long_path.as_str(), RoleArnError::Path),
            ("arn:aws:iam::123456789012:role/", RoleArnError::Name),
            ("arn:aws:iam::123456789012:role/svc/", RoleArnError::Name),
            (
                "arn:aws:iam::123456789012:role/billing*",
                RoleArnError::Name,
            ),
            (
                "arn:aws:iam::123456789012:role/ſervice",
                RoleArnError::Arn(ArnError::Resource),
            ),
        ] {
            assert_eq!(arn.parse::<RoleArn>(), Err(error), "{arn:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic_the_role_arn_parser(arn in "\\PC{0,80}") {
            let _ = arn.parse::<RoleArn>();
        }

        #[test]
        fn an_accepted_role_arn_is_exactly_its_parts(
            arn in "arn:(aws|aws-cn|aws-iso|AWS)?:(iam|sts)?:(eu-west-1)?:[0-9]{11,13}:\
                    role/[A-Za-z0-9+=,.@_ſ/:-]{0,40}"
        ) {
            if let Ok(role) = arn.parse::<RoleArn>() {
                prop_assert!(is_role_name(role.name()));
                prop_assert!(role.path().starts_with('/') && role.path().ends_with('/'));
                prop_assert!(!role.path().contains("//"));
                prop_assert_eq!(
                    format!(
                        "arn:{}:iam::{}:role{}{}",
                        role.partition(),
                        role.account(),
                        role.path(),
                        role.name()
                    ),
                    arn
                );
            }
        }
    }
}
