//! Every configured service, and the mapping from the caller STS vouched for to one of them
//! (security rules 14 to 19).

use std::collections::HashMap;

use super::arn::{ArnError, CallerArn, Principal};
use super::names::{
    MAX_ROLE_NAME_LEN, is_account_id, is_role_name, is_role_unique_id, is_unique_id,
};
use super::service::ServiceIdentity;
use crate::partition::Partition;
use crate::sts::answer::CallerIdentity;

/// What a role is looked up by: partition, account and the role name in lower case, as IAM
/// compares names. Kept inline so that a lookup allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RoleKey {
    partition: Partition,
    account: [u8; 12],
    name: [u8; MAX_ROLE_NAME_LEN],
    name_len: u8,
}

impl RoleKey {
    /// The key for a role, or `None` when the account or name is not well-formed; such a
    /// name can never match, whatever Unicode case folding would make of it (rule 17).
    fn new(partition: Partition, account: &str, role_name: &str) -> Option<Self> {
        if !is_account_id(account) || !is_role_name(role_name) {
            return None;
        }
        let mut key = RoleKey {
            partition,
            account: [0; 12],
            name: [0; MAX_ROLE_NAME_LEN],
            name_len: u8::try_from(role_name.len()).ok()?,
        };
        key.account.copy_from_slice(account.as_bytes());
        for (slot, byte) in key.name.iter_mut().zip(role_name.bytes()) {
            *slot = byte.to_ascii_lowercase();
        }
        Some(key)
    }
}

/// Every configured service, indexed by role for a lookup in constant time.
#[derive(Debug, Clone)]
pub struct ServiceDirectory {
    services: Vec<ServiceIdentity>,
    by_role: HashMap<RoleKey, usize>,
}

/// Why a set of services cannot be served together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// A service's name is empty.
    #[error("a service has an empty name")]
    EmptyName,
    /// Two services have the same name, compared case-insensitively: their tokens' `sub`
    /// would be indistinguishable to a case-insensitive reader.
    #[error("services {first:?} and {second:?} have the same name")]
    DuplicateName {
        /// The service listed first.
        first: String,
        /// The service listed later.
        second: String,
    },
    /// Two services name the same role (IAM role names are unique per account whatever
    /// their case and path), so a caller could not be told apart.
    #[error(
        "services {first:?} and {second:?} map the same role (names compared case-insensitively)"
    )]
    DuplicateRole {
        /// The service listed first.
        first: String,
        /// The service listed later.
        second: String,
    },
    /// A pinned `unique_id` is not a role's unique id.
    #[error("service {service:?} pins a unique_id that is not a role's unique id (AROA...)")]
    UniqueId {
        /// The service with the bad pin.
        service: String,
    },
}

/// Why the caller STS vouched for gets no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// STS's ARN is not a well-formed principal ARN: 502.
    #[error("STS answered with a malformed ARN")]
    MalformedArn(#[source] ArnError),
    /// The ARN's account differs from the answer's `Account`: 502.
    #[error("STS answered with an ARN whose account differs from the answer's account")]
    InconsistentAccount,
    /// The `UserId` is not `<unique id>:<session name>` with the ARN's session name: 502.
    #[error("STS answered with a user id that does not match the ARN's session")]
    InconsistentUserId,
    /// The ARN's partition is not one this deployment accepts: 403.
    #[error("the caller's partition is not accepted here")]
    PartitionNotAllowed,
    /// The caller is not an assumed role; `principal` says what it is: 403.
    #[error("the caller is {principal}, not an assumed role")]
    NotARole {
        /// What the caller is, such as "an IAM user".
        principal: &'static str,
    },
    /// No service is configured for the caller's role: 403.
    #[error("no service is configured for the caller's role")]
    UnmappedRole,
    /// The service pins a unique id and the caller's role has another one: 403.
    #[error("the caller's role is not the one its service pinned (its unique id differs)")]
    UniqueIdMismatch,
}

impl MappingError {
    /// The HTTP status the caller gets: 502 when STS answered nonsense, 403 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            MappingError::MalformedArn(_)
            | MappingError::InconsistentAccount
            | MappingError::InconsistentUserId => 502,
            MappingError::PartitionNotAllowed
            | MappingError::NotARole { .. }
            | MappingError::UnmappedRole
            | MappingError::UniqueIdMismatch => 403,
        }
    }

    /// The stable error code the caller gets.
    pub fn code(&self) -> &'static str {
        match self {
            MappingError::MalformedArn(_) => "invalid_sts_answer",
            MappingError::InconsistentAccount | MappingError::InconsistentUserId => {
                "inconsistent_sts_answer"
            }
            MappingError::PartitionNotAllowed => "partition_not_allowed",
            MappingError::NotARole { .. } => "principal_not_a_role",
            MappingError::UnmappedRole => "unmapped_role",
            MappingError::UniqueIdMismatch => "role_unique_id_mismatch",
        }
    }
}

impl ServiceDirectory {
    /// Indexes `services`, refusing empty or duplicate names (compared case-insensitively),
    /// two services for one role and a malformed `unique_id` pin.
    pub fn new(services: Vec<ServiceIdentity>) -> Result<Self, DirectoryError> {
        let mut by_role = HashMap::with_capacity(services.len());

        for (index, service) in services.iter().enumerate() {
            if service.name.is_empty() {
                return Err(DirectoryError::EmptyName);
            }
            let name = service.name.to_lowercase();
            if let Some(first) = services[..index]
                .iter()
                .find(|earlier| earlier.name.to_lowercase() == name)
            {
                return Err(DirectoryError::DuplicateName {
                    first: first.name.clone(),
                    second: service.name.clone(),
                });
            }
            if service
                .unique_id
                .as_deref()
                .is_some_and(|unique_id| !is_role_unique_id(unique_id))
            {
                return Err(DirectoryError::UniqueId {
                    service: service.name.clone(),
                });
            }

            let role = &service.role;
            // A `RoleArn` has a well-formed account and name, so the key always exists.
            let Some(key) = RoleKey::new(role.partition(), role.account(), role.name()) else {
                continue;
            };
            if let Some(&first) = by_role.get(&key) {
                let first: &ServiceIdentity = &services[first];
                return Err(DirectoryError::DuplicateRole {
                    first: first.name.clone(),
                    second: service.name.clone(),
                });
            }
            by_role.insert(key, index);
        }

        Ok(Self { services, by_role })
    }

    /// Every configured service, in the configured order.
    pub fn services(&self) -> &[ServiceIdentity] {
        &self.services
    }

    /// The service the caller maps to. `partitions` are the partitions this deployment
    /// accepts. The checks run in the order of the rules; the first to fail decides.
    pub fn map(
        &self,
        caller: &CallerIdentity,
        partitions: &[Partition],
    ) -> Result<&ServiceIdentity, MappingError> {
        // Rule 15: the ARN has the shape of a principal ARN; a fault means STS answered
        // nonsense, not that the caller is unknown.
        let arn = CallerArn::parse(&caller.arn).map_err(MappingError::MalformedArn)?;

        // Rule 14: the three fields STS returned agree. A mismatch means the answer was not
        // one STS would give, whatever produced it.
        if arn.account != caller.account {
            return Err(MappingError::InconsistentAccount);
        }

        // Rule 15: only partitions this deployment accepts.
        let partition = partitions
            .iter()
            .copied()
            .find(|partition| partition.name() == arn.partition)
            .ok_or(MappingError::PartitionNotAllowed)?;

        // Rule 16: only assumed roles map; users, root and federated users never do.
        let Principal::AssumedRole {
            role_name,
            session_name,
        } = arn.principal
        else {
            return Err(MappingError::NotARole {
                principal: arn.principal.description(),
            });
        };

        // Rule 14: for an assumed role, `UserId` is `<role unique id>:<session name>`.
        // Rule 19: the session name is compared only to STS's own copy of it; it decides
        // nothing about the mapping.
        let unique_id = role_unique_id(&caller.user_id, session_name)?;

        // Rule 17: partition, account and the exact name, ASCII case-insensitively. The key
        // is built only from IAM's alphabet, and there is no prefix or wildcard lookup.
        let service = RoleKey::new(partition, arn.account, role_name)
            .and_then(|key| self.by_role.get(&key))
            .and_then(|&index| self.services.get(index))
            .ok_or(MappingError::UnmappedRole)?;

        // Rule 18: a pinned unique id must match exactly, so a re-created role is refused.
        if service
            .unique_id
            .as_deref()
            .is_some_and(|pinned| pinned != unique_id)
        {
            return Err(MappingError::UniqueIdMismatch);
        }

        Ok(service)
    }
}

/// The role's unique id from an assumed role's `UserId`, which must be
/// `<unique id>:<session name>` with the session name from the ARN.
fn role_unique_id<'a>(user_id: &'a str, session_name: &str) -> Result<&'a str, MappingError> {
    match user_id.split_once(':') {
        Some((unique_id, user_id_session))
            if is_unique_id(unique_id) && user_id_session == session_name =>
        {
            Ok(unique_id)
        }
        _ => Err(MappingError::InconsistentUserId),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::OrgIds;

    const ALL: &[Partition] = &Partition::ALL;
    const AWS_ONLY: &[Partition] = &[Partition::Aws];

    fn service(name: &str, role_arn: &str, unique_id: Option<&str>) -> ServiceIdentity {
        ServiceIdentity {
            name: name.to_string(),
            role: role_arn.parse().unwrap(),
            org_ids: OrgIds::None,
            unique_id: unique_id.map(str::to_string),
            policies: Vec::new(),
        }
    }

    fn directory() -> ServiceDirectory {
        ServiceDirectory::new(vec![
            service(
                "billing",
                "arn:aws:iam::123456789012:role/billing-api",
                None,
            ),
            service(
                "pinned",
                "arn:aws:iam::123456789012:role/pinned-api",
                Some("AROAPINNED1"),
            ),
            service(
                "payments",
                "arn:aws:iam::123456789012:role/svc/payments",
                None,
            ),
            service("kafka", "arn:aws:iam::123456789012:role/kafka", None),
            service(
                "china",
                "arn:aws-cn:iam::123456789012:role/billing-api",
                None,
            ),
        ])
        .unwrap()
    }

    /// An answer as STS gives it for `role`, with the session `s1` and the unique id
    /// `AROAEXAMPLE`.
    fn assumed(role: &str) -> CallerIdentity {
        CallerIdentity {
            arn: format!("arn:aws:sts::123456789012:assumed-role/{role}/s1"),
            user_id: "AROAEXAMPLE:s1".to_string(),
            account: "123456789012".to_string(),
        }
    }

    fn answer(arn: &str, user_id: &str, account: &str) -> CallerIdentity {
        CallerIdentity {
            arn: arn.to_string(),
            user_id: user_id.to_string(),
            account: account.to_string(),
        }
    }

    /// The name of the service `caller` maps to in [`directory`].
    fn mapped_name(
        caller: &CallerIdentity,
        partitions: &[Partition],
    ) -> Result<String, MappingError> {
        directory()
            .map(caller, partitions)
            .map(|service| service.name.clone())
    }

    #[test]
    fn callers_map_to_their_service() {
        for (caller, partitions, expected) in [
            (assumed("billing-api"), ALL, "billing"),
            (assumed("Billing-API"), ALL, "billing"),
            (assumed("BILLING-API"), ALL, "billing"),
            (assumed("payments"), ALL, "payments"),
            (assumed("KAFKA"), ALL, "kafka"),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/pinned-api/s1",
                    "AROAPINNED1:s1",
                    "123456789012",
                ),
                ALL,
                "pinned",
            ),
            (
                answer(
                    "arn:aws-cn:sts::123456789012:assumed-role/billing-api/s1",
                    "AROAEXAMPLE:s1",
                    "123456789012",
                ),
                ALL,
                "china",
            ),
        ] {
            assert_eq!(
                mapped_name(&caller, partitions),
                Ok(expected.to_string()),
                "{caller:?}"
            );
        }
    }

    #[test]
    fn callers_that_must_not_map_are_refused_with_the_reason() {
        let not_a_role = |principal| Err(MappingError::NotARole { principal });
        for (caller, partitions, expected) in [
            (assumed("unknown-api"), ALL, Err(MappingError::UnmappedRole)),
            (
                assumed("billing-api-admin"),
                ALL,
                Err(MappingError::UnmappedRole),
            ),
            (assumed("billing"), ALL, Err(MappingError::UnmappedRole)),
            (assumed("billing-ap"), ALL, Err(MappingError::UnmappedRole)),
            (assumed("svc"), ALL, Err(MappingError::UnmappedRole)),
            (
                assumed("ſvc"),
                ALL,
                Err(MappingError::MalformedArn(ArnError::Resource)),
            ),
            (
                assumed("\u{212A}afka"),
                ALL,
                Err(MappingError::MalformedArn(ArnError::Resource)),
            ),
            (
                answer(
                    "arn:aws:iam::123456789012:user/alice",
                    "AIDAEXAMPLE",
                    "123456789012",
                ),
                ALL,
                not_a_role("an IAM user"),
            ),
            (
                answer(
                    "arn:aws:iam::123456789012:root",
                    "123456789012",
                    "123456789012",
                ),
                ALL,
                not_a_role("the account's root user"),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:federated-user/bob",
                    "123456789012:bob",
                    "123456789012",
                ),
                ALL,
                not_a_role("a federated user"),
            ),
            (
                answer(
                    "arn:aws:sts::210987654321:assumed-role/billing-api/s1",
                    "AROAEXAMPLE:s1",
                    "210987654321",
                ),
                ALL,
                Err(MappingError::UnmappedRole),
            ),
            (
                answer(
                    "arn:aws-cn:sts::123456789012:assumed-role/billing-api/s1",
                    "AROAEXAMPLE:s1",
                    "123456789012",
                ),
                AWS_ONLY,
                Err(MappingError::PartitionNotAllowed),
            ),
            (
                answer(
                    "arn:aws-iso:sts::123456789012:assumed-role/billing-api/s1",
                    "AROAEXAMPLE:s1",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::PartitionNotAllowed),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/pinned-api/s1",
                    "AROAOTHER99:s1",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::UniqueIdMismatch),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/pinned-api/s1",
                    "AROAPINNED11:s1",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::UniqueIdMismatch),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/billing-api/s1",
                    "AROAEXAMPLE:s1",
                    "210987654321",
                ),
                ALL,
                Err(MappingError::InconsistentAccount),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/billing-api/s1",
                    "AROAEXAMPLE:s2",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::InconsistentUserId),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/billing-api/s1",
                    "AROAEXAMPLE",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::InconsistentUserId),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/billing-api/s1",
                    ":s1",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::InconsistentUserId),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/billing-api/s1",
                    "AROAEXAMPLE:s1:s1",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::InconsistentUserId),
            ),
            (
                answer(
                    "arn:aws:sts:123456789012:assumed-role/billing-api/s1",
                    "AROAEXAMPLE:s1",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::MalformedArn(ArnError::NotSixParts)),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/billing-api/s1:x",
                    "AROAEXAMPLE:s1",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::MalformedArn(ArnError::NotSixParts)),
            ),
            (
                answer(
                    "arn:aws:sts::123456789012:assumed-role/svc/payments/s1",
                    "AROAEXAMPLE:s1",
                    "123456789012",
                ),
                ALL,
                Err(MappingError::MalformedArn(ArnError::AssumedRoleShape)),
            ),
        ] {
            assert_eq!(mapped_name(&caller, partitions), expected, "{caller:?}");
        }
    }

    #[test]
    fn the_session_name_decides_nothing() {
        for session in ["admin", "billing-api", "AROAPINNED1", "s1", "a@b.c"] {
            let caller = answer(
                &format!("arn:aws:sts::123456789012:assumed-role/billing-api/{session}"),
                &format!("AROAEXAMPLE:{session}"),
                "123456789012",
            );
            assert_eq!(
                mapped_name(&caller, ALL),
                Ok("billing".to_string()),
                "{session}"
            );
        }
    }

    #[test]
    fn errors_carry_their_status_and_code() {
        for (error, status, code) in [
            (
                MappingError::MalformedArn(ArnError::Account),
                502,
                "invalid_sts_answer",
            ),
            (
                MappingError::InconsistentAccount,
                502,
                "inconsistent_sts_answer",
            ),
            (
                MappingError::InconsistentUserId,
                502,
                "inconsistent_sts_answer",
            ),
            (
                MappingError::PartitionNotAllowed,
                403,
                "partition_not_allowed",
            ),
            (
                MappingError::NotARole {
                    principal: "an IAM user",
                },
                403,
                "principal_not_a_role",
            ),
            (MappingError::UnmappedRole, 403, "unmapped_role"),
            (
                MappingError::UniqueIdMismatch,
                403,
                "role_unique_id_mismatch",
            ),
        ] {
            assert_eq!((error.status(), error.code()), (status, code), "{error:?}");
        }
    }

    #[test]
    fn a_directory_refuses_ambiguous_services() {
        for (services, error) in [
            (
                vec![
                    service(
                        "billing",
                        "arn:aws:iam::123456789012:role/billing-api",
                        None,
                    ),
                    service("Billing", "arn:aws:iam::123456789012:role/other-api", None),
                ],
                DirectoryError::DuplicateName {
                    first: "billing".to_string(),
                    second: "Billing".to_string(),
                },
            ),
            (
                vec![
                    service(
                        "billing",
                        "arn:aws:iam::123456789012:role/billing-api",
                        None,
                    ),
                    service(
                        "billing2",
                        "arn:aws:iam::123456789012:role/svc/Billing-Api",
                        None,
                    ),
                ],
                DirectoryError::DuplicateRole {
                    first: "billing".to_string(),
                    second: "billing2".to_string(),
                },
            ),
            (
                vec![service(
                    "",
                    "arn:aws:iam::123456789012:role/billing-api",
                    None,
                )],
                DirectoryError::EmptyName,
            ),
            (
                vec![service(
                    "billing",
                    "arn:aws:iam::123456789012:role/billing-api",
                    Some("AIDAEXAMPLE"),
                )],
                DirectoryError::UniqueId {
                    service: "billing".to_string(),
                },
            ),
        ] {
            assert_eq!(ServiceDirectory::new(services).unwrap_err(), error);
        }
    }

    #[test]
    fn the_same_role_name_in_other_accounts_or_partitions_is_another_role() {
        let directory = ServiceDirectory::new(vec![
            service("a", "arn:aws:iam::123456789012:role/api", None),
            service("b", "arn:aws:iam::210987654321:role/api", None),
            service("c", "arn:aws-us-gov:iam::123456789012:role/api", None),
        ])
        .unwrap();
        assert_eq!(directory.services().len(), 3);
        let caller = answer(
            "arn:aws-us-gov:sts::123456789012:assumed-role/api/s1",
            "AROAEXAMPLE:s1",
            "123456789012",
        );
        assert_eq!(directory.map(&caller, ALL).unwrap().name, "c");
    }
}
