//! A configured service identity: the role it runs as and what its tokens may carry.

use super::role_arn::RoleArn;

/// Which `org_id` values a service may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgIds {
    /// None: `org_ids` absent or empty. A request naming an `org_id` is refused.
    None,
    /// Any value: `org_ids = ["*"]`.
    Any,
    /// Exactly these values, compared byte for byte.
    Listed(Vec<String>),
}

/// Why an `org_ids` list is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgIdsError {
    /// A value is the empty string.
    #[error("org_ids holds an empty value")]
    Empty,
    /// `"*"` sits beside other values, which would make those values meaningless.
    #[error("org_ids mixes \"*\" with other values; write [\"*\"] alone to allow any")]
    WildcardMixed,
    /// A value appears twice.
    #[error("org_ids lists {0:?} twice")]
    Duplicate(String),
}

impl OrgIds {
    /// Reads the configuration's `org_ids`: absent or `[]` allows none, `["*"]` allows any,
    /// anything else allows exactly the values listed. A `"*"` beside other values is
    /// refused rather than guessed at, since either reading could surprise an operator.
    pub fn from_config(org_ids: Option<&[String]>) -> Result<Self, OrgIdsError> {
        let Some(org_ids) = org_ids.filter(|org_ids| !org_ids.is_empty()) else {
            return Ok(OrgIds::None);
        };
        if org_ids.iter().any(String::is_empty) {
            return Err(OrgIdsError::Empty);
        }
        if org_ids.iter().any(|org_id| org_id == "*") {
            return if org_ids.len() == 1 {
                Ok(OrgIds::Any)
            } else {
                Err(OrgIdsError::WildcardMixed)
            };
        }
        for (index, org_id) in org_ids.iter().enumerate() {
            if org_ids[..index].contains(org_id) {
                return Err(OrgIdsError::Duplicate(org_id.clone()));
            }
        }
        Ok(OrgIds::Listed(org_ids.to_vec()))
    }
}

/// One configured service: the role it runs as and what its tokens carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIdentity {
    /// The `sub` and `client_id` of its tokens.
    pub name: String,
    /// The IAM role its callers must have assumed.
    pub role: RoleArn,
    /// The `org_id` values it may ask for.
    pub org_ids: OrgIds,
    /// The role's unique id (`AROA...`), when pinned: a role deleted and re-created under
    /// the same name gets a new one and no longer maps (rule 18).
    pub unique_id: Option<String>,
    /// Copied into the `policies` claim.
    pub policies: Vec<String>,
}

impl ServiceIdentity {
    /// Whether this service may ask for `org_id`. The empty string is never allowed.
    pub fn allows_org(&self, org_id: &str) -> bool {
        if org_id.is_empty() {
            return false;
        }
        match &self.org_ids {
            OrgIds::None => false,
            OrgIds::Any => true,
            OrgIds::Listed(org_ids) => org_ids.iter().any(|allowed| allowed == org_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    fn service(org_ids: OrgIds) -> ServiceIdentity {
        ServiceIdentity {
            name: "billing".to_string(),
            role: "arn:aws:iam::123456789012:role/billing-api"
                .parse()
                .unwrap(),
            org_ids,
            unique_id: None,
            policies: Vec::new(),
        }
    }

    #[test]
    fn org_ids_are_read_from_the_configuration() {
        assert_eq!(OrgIds::from_config(None), Ok(OrgIds::None));
        assert_eq!(OrgIds::from_config(Some(&[])), Ok(OrgIds::None));
        assert_eq!(OrgIds::from_config(Some(&strings(&["*"]))), Ok(OrgIds::Any));
        assert_eq!(
            OrgIds::from_config(Some(&strings(&["66", "67"]))),
            Ok(OrgIds::Listed(vec!["66".to_string(), "67".to_string()]))
        );
    }

    #[test]
    fn doubtful_org_ids_are_refused() {
        for (org_ids, error) in [
            (strings(&["66", ""]), OrgIdsError::Empty),
            (strings(&["*", "66"]), OrgIdsError::WildcardMixed),
            (strings(&["66", "*"]), OrgIdsError::WildcardMixed),
            (strings(&["*", "*"]), OrgIdsError::WildcardMixed),
            (
                strings(&["66", "67", "66"]),
                OrgIdsError::Duplicate("66".to_string()),
            ),
        ] {
            assert_eq!(
                OrgIds::from_config(Some(&org_ids)),
                Err(error),
                "{org_ids:?}"
            );
        }
    }

    #[test]
    fn a_service_may_ask_only_for_its_org_ids() {
        let none = service(OrgIds::None);
        assert!(!none.allows_org("66"));

        let any = service(OrgIds::Any);
        assert!(any.allows_org("66"));
        assert!(!any.allows_org(""));

        let listed = service(OrgIds::Listed(vec!["66".to_string()]));
        assert!(listed.allows_org("66"));
        for org_id in ["67", "6", "666", " 66", "*", ""] {
            assert!(!listed.allows_org(org_id), "{org_id:?}");
        }
    }
}
