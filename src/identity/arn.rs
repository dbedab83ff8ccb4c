//! ARNs taken apart: the shape every ARN here must have, and the principal STS vouched for
//! (security rules 15, 16 and 19).

use super::names::{is_account_id, is_role_name, is_session_name};

/// The longest ARN read; IAM's own limit is 2048 characters.
const MAX_ARN_LEN: usize = 2048;

/// Why a string is not a well-formed IAM or STS principal ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// Longer than 2048 characters.
    #[error("the ARN is longer than 2048 characters")]
    TooLong,
    /// Not exactly six colon-separated parts.
    #[error("the ARN does not have exactly six colon-separated parts")]
    NotSixParts,
    /// The first part is not `arn`.
    #[error("the ARN does not start with arn:")]
    NotAnArn,
    /// The partition is not lower-case letters, digits and hyphens.
    #[error("the ARN's partition is not a partition name")]
    Partition,
    /// The service is not lower-case letters, digits and hyphens.
    #[error("the ARN's service is not a service name")]
    Service,
    /// The region is not empty, as it is for every IAM and STS principal.
    #[error("the ARN has a region, which IAM and STS principals never have")]
    Region,
    /// The account is not 12 ASCII digits.
    #[error("the ARN's account is not 12 digits")]
    Account,
    /// The resource is empty or holds a character outside printable ASCII.
    #[error("the ARN's resource is empty or not printable ASCII")]
    Resource,
    /// An assumed-role resource is not `assumed-role/<role name>/<session name>`.
    #[error("the ARN is not assumed-role/<role name>/<session name>")]
    AssumedRoleShape,
    /// The role name is not 1 to 64 characters of IAM's name alphabet.
    #[error("the ARN's role name is not an IAM role name")]
    RoleName,
    /// The session name is not 2 to 64 characters of IAM's name alphabet.
    #[error("the ARN's session name is not a role session name")]
    SessionName,
}

/// The six parts of an ARN, each checked for its own alphabet (rule 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArnParts<'a> {
    pub(crate) partition: &'a str,
    pub(crate) service: &'a str,
    pub(crate) account: &'a str,
    pub(crate) resource: &'a str,
}

impl<'a> ArnParts<'a> {
    /// Splits `arn:<partition>:<service>::<account>:<resource>`. The region must be empty
    /// and nothing may hold a colon beyond the five separators: no IAM or STS principal
    /// has one, and a seventh part would make the reading ambiguous.
    pub(crate) fn split(unverified_arn: &'a str) -> Result<Self, ArnError> {
        if unverified_arn.len() > MAX_ARN_LEN {
            return Err(ArnError::TooLong);
        }
        let mut parts = unverified_arn.split(':');
        let (
            Some(prefix),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
            None,
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(ArnError::NotSixParts);
        };

        if prefix != "arn" {
            return Err(ArnError::NotAnArn);
        }
        if !is_lower_case_label(partition) {
            return Err(ArnError::Partition);
        }
        if !is_lower_case_label(service) {
            return Err(ArnError::Service);
        }
        if !region.is_empty() {
            return Err(ArnError::Region);
        }
        if !is_account_id(account) {
            return Err(ArnError::Account);
        }
        if resource.is_empty() || !resource.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(ArnError::Resource);
        }

        Ok(Self {
            partition,
            service,
            account,
            resource,
        })
    }
}

/// A partition or service name: 1 to 32 lower-case ASCII letters, digits and hyphens.
fn is_lower_case_label(label: &str) -> bool {
    (1..=32).contains(&label.len())
        && label
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// The ARN STS returned for the caller, taken apart. It borrows from the ARN, so reading it
/// allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerArn<'a> {
    /// The partition's name as written, such as `aws`; possibly one this build does not know.
    pub partition: &'a str,
    /// The 12-digit account id.
    pub account: &'a str,
    /// What kind of principal the ARN names.
    pub principal: Principal<'a>,
}

/// The principal STS vouched for (rule 16). Only an assumed role can map to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    /// `arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>`.
    AssumedRole {
        /// The role's name, without its path: STS never returns the path.
        role_name: &'a str,
        /// The session name, chosen by the caller: recorded, never used to decide (rule 19).
        session_name: &'a str,
    },
    /// An IAM user, `arn:<partition>:iam::<account>:user/<path/>name`.
    User,
    /// The account's root user, `arn:<partition>:iam::<account>:root`.
    Root,
    /// A federated user, `arn:<partition>:sts::<account>:federated-user/<name>`.
    FederatedUser,
    /// Any other well-formed principal ARN.
    Other,
}

impl Principal<'_> {
    /// What the principal is, for a message: "an IAM user", "the root user", ...
    pub fn description(&self) -> &'static str {
        match self {
            Principal::AssumedRole { .. } => "an assumed role",
            Principal::User => "an IAM user",
            Principal::Root => "the account's root user",
            Principal::FederatedUser => "a federated user",
            Principal::Other => "a principal other than an assumed role",
        }
    }
}

impl<'a> CallerArn<'a> {
    /// Reads the ARN from STS's answer (rules 15 and 16). An assumed role's role and
    /// session names must be in IAM's alphabet; the session name is checked for that only
    /// (rule 19). Any fault means STS answered nonsense.
    pub fn parse(unverified_arn: &'a str) -> Result<Self, ArnError> {
        let parts = ArnParts::split(unverified_arn)?;

        let principal = match (parts.service, parts.resource) {
            ("sts", resource) if resource.starts_with("assumed-role/") => {
                assumed_role(&resource["assumed-role/".len()..])?
            }
            ("sts", resource) if resource.starts_with("federated-user/") => {
                Principal::FederatedUser
            }
            ("iam", "root") => Principal::Root,
            ("iam", resource) if resource.starts_with("user/") => Principal::User,
            _ => Principal::Other,
        };

        Ok(Self {
            partition: parts.partition,
            account: parts.account,
            principal,
        })
    }
}

/// Reads `<role name>/<session name>`. STS leaves the role's path out, so there is
/// exactly one slash.
fn assumed_role(role_and_session: &str) -> Result<Principal<'_>, ArnError> {
    let Some((role_name, session_name)) = role_and_session.split_once('/') else {
        return Err(ArnError::AssumedRoleShape);
    };
    if session_name.contains('/') {
        return Err(ArnError::AssumedRoleShape);
    }
    if !is_role_name(role_name) {
        return Err(ArnError::RoleName);
    }
    if !is_session_name(session_name) {
        return Err(ArnError::SessionName);
    }
    Ok(Principal::AssumedRole {
        role_name,
        session_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_assumed_role_arn_is_taken_apart() {
        let arn =
            CallerArn::parse("arn:aws:sts::123456789012:assumed-role/billing-api/i-0abc").unwrap();
        assert_eq!(
            arn,
            CallerArn {
                partition: "aws",
                account: "123456789012",
                principal: Principal::AssumedRole {
                    role_name: "billing-api",
                    session_name: "i-0abc",
                },
            }
        );
    }

    #[test]
    fn other_principals_are_recognised() {
        for (arn, principal) in [
            ("arn:aws:iam::123456789012:user/alice", Principal::User),
            ("arn:aws:iam::123456789012:user/team/alice", Principal::User),
            ("arn:aws:iam::123456789012:root", Principal::Root),
            (
                "arn:aws:sts::123456789012:federated-user/bob",
                Principal::FederatedUser,
            ),
            ("arn:aws:sts::123456789012:user/moto", Principal::Other),
            (
                "arn:aws:iam::123456789012:role/billing-api",
                Principal::Other,
            ),
            (
                "arn:aws:iam::123456789012:assumed-role/billing-api/s",
                Principal::Other,
            ),
        ] {
            assert_eq!(CallerArn::parse(arn).unwrap().principal, principal, "{arn}");
        }
    }

    #[test]
    fn malformed_arns_are_refused_with_the_fault() {
        let too_long = format!("arn:aws:iam::123456789012:user/{}", "a".repeat(2048));
        for (arn, error) in [
            ("", ArnError::NotSixParts),
            (
                "arn:aws:sts:123456789012:assumed-role/r/s",
                ArnError::NotSixParts,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/r/s:x",
                ArnError::NotSixParts,
            ),
            (
                "ARN:aws:sts::123456789012:assumed-role/r/s",
                ArnError::NotAnArn,
            ),
            (
                "arn::sts::123456789012:assumed-role/r/s",
                ArnError::Partition,
            ),
            (
                "arn:AWS:sts::123456789012:assumed-role/r/s",
                ArnError::Partition,
            ),
            (
                "arn:aws:STS::123456789012:assumed-role/r/s",
                ArnError::Service,
            ),
            (
                "arn:aws:sts:us-east-1:123456789012:assumed-role/r/s",
                ArnError::Region,
            ),
            (
                "arn:aws:sts::12345678901:assumed-role/r/s",
                ArnError::Account,
            ),
            (
                "arn:aws:sts::1234567890123:assumed-role/r/s",
                ArnError::Account,
            ),
            (
                "arn:aws:sts::12345678901x:assumed-role/r/s",
                ArnError::Account,
            ),
            ("arn:aws:sts::123456789012:", ArnError::Resource),
            (
                "arn:aws:sts::123456789012:assumed-role/r/s x",
                ArnError::Resource,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/ſ/s",
                ArnError::Resource,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/r",
                ArnError::AssumedRoleShape,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/path/r/s",
                ArnError::AssumedRoleShape,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role//s1",
                ArnError::RoleName,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/r!/s1",
                ArnError::RoleName,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/r/s",
                ArnError::SessionName,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/r/",
                ArnError::SessionName,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/r/a#b",
                ArnError::SessionName,
            ),
            (too_long.as_str(), ArnError::TooLong),
        ] {
            assert_eq!(CallerArn::parse(arn), Err(error), "{arn:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic_the_parser(arn in "\\PC{0,80}") {
            let _ = CallerArn::parse(&arn);
        }

        #[test]
        fn an_accepted_assumed_role_is_exactly_its_parts(
            arn in "arn:(aws|aws-cn|AWS|a b|)?:(sts|iam|s:ts)?:(us-east-1)?:[0-9]{11,13}:\
                    assumed-role/[A-Za-z0-9+=,.@_ſ\u{212A}/:-]{0,66}/[A-Za-z0-9+=,.@_ /-]{0,66}"
        ) {
            if let Ok(parsed) = CallerArn::parse(&arn) {
                let Principal::AssumedRole { role_name, session_name } = parsed.principal else {
                    // Only STS names assumed roles: `iam:...:assumed-role/...` is another
                    // kind of principal, which never maps to a service.
                    prop_assert_ne!(arn.split(':').nth(2), Some("sts"), "an assumed role read as another kind");
                    return Ok(());
                };
                prop_assert!(is_role_name(role_name));
                prop_assert!(is_session_name(session_name));
                prop_assert!(is_account_id(parsed.account));
                prop_assert!(is_lower_case_label(parsed.partition));
                prop_assert_eq!(
                    format!(
                        "arn:{}:sts::{}:assumed-role/{role_name}/{session_name}",
                        parsed.partition, parsed.account
                    ),
                    arn
                );
            }
        }

        #[test]
        fn every_well_formed_assumed_role_is_accepted(
            partition in "aws|aws-cn|aws-us-gov",
            account in "[0-9]{12}",
            role_name in "[A-Za-z0-9+=,.@_-]{1,64}",
            session_name in "[A-Za-z0-9+=,.@_-]{2,64}",
        ) {
            let arn = format!(
                "arn:{partition}:sts::{account}:assumed-role/{role_name}/{session_name}"
            );
            let parsed = CallerArn::parse(&arn).unwrap();
            prop_assert_eq!(parsed.principal, Principal::AssumedRole {
                role_name: &role_name,
                session_name: &session_name,
            });
        }
    }
}
