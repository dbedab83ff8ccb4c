//! Rule 5: the body is exactly the `GetCallerIdentity` call, in one of its two spellings.

use super::error::RequestError;

/// The largest body read at all. The two accepted bodies are 43 bytes; the cap only makes
/// sure nothing larger is compared or copied.
const MAX_BODY_LEN: usize = 1024;

/// The only bodies accepted: the two parameters, once each, in either order.
const GET_CALLER_IDENTITY_BODIES: [&str; 2] = [
    "Action=GetCallerIdentity&Version=2011-06-15",
    "Version=2011-06-15&Action=GetCallerIdentity",
];

/// Rule 5: the body is one of the two exact `GetCallerIdentity` forms; returns this
/// service's own copy of it, so the caller's bytes are never the ones forwarded.
///
/// Defends against calling another STS action whose answer reflects attacker text (the
/// Vault CVE-2020-16250 attack) and against duplicate or extra parameters that STS and this
/// service might read differently (the aws-iam-authenticator CVE-2022-2385 attack). Exact
/// comparison means there is no form parsing to disagree about.
pub(super) fn check_body(unverified_body: &str) -> Result<&'static str, RequestError> {
    if unverified_body.len() > MAX_BODY_LEN {
        return Err(RequestError::BodyTooLarge);
    }
    GET_CALLER_IDENTITY_BODIES
        .into_iter()
        .find(|body| *body == unverified_body)
        .ok_or(RequestError::BodyNotGetCallerIdentity)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn both_spellings_of_get_caller_identity_are_accepted() {
        for body in GET_CALLER_IDENTITY_BODIES {
            assert_eq!(check_body(body), Ok(body));
        }
    }

    #[test]
    fn any_other_body_is_refused() {
        for body in [
            "",
            "Action=AssumeRole&Version=2011-06-15",
            "Action=GetCallerIdentity&Action=GetCallerIdentity&Version=2011-06-15",
            "Action=GetCallerIdentity&Version=2011-06-15&Version=2011-06-15",
            "Action=GetCallerIdentity&Version=2011-06-15&RoleArn=x",
            "Action=GetCallerIdentity&Version=2011-06-15&",
            "&Action=GetCallerIdentity&Version=2011-06-15",
            "Action=GetCallerIdentity",
            "action=GetCallerIdentity&Version=2011-06-15",
            "Action=GetCallerIdentity%26Version=2011-06-15",
            "Action=GetCallerIdentity;Version=2011-06-15",
            "Action=GetCallerIdentity&Version=2011-06-15\n",
            " Action=GetCallerIdentity&Version=2011-06-15",
        ] {
            assert_eq!(
                check_body(body),
                Err(RequestError::BodyNotGetCallerIdentity),
                "{body:?}"
            );
        }
    }

    #[test]
    fn a_body_over_one_kib_is_refused_before_it_is_read() {
        assert_eq!(
            check_body(&"a".repeat(1024)),
            Err(RequestError::BodyNotGetCallerIdentity)
        );
        assert_eq!(
            check_body(&"a".repeat(1025)),
            Err(RequestError::BodyTooLarge)
        );
    }

    proptest! {
        #[test]
        fn an_accepted_body_is_one_of_the_two_forms(unverified_body in ".*") {
            if check_body(&unverified_body).is_ok() {
                prop_assert!(GET_CALLER_IDENTITY_BODIES.contains(&unverified_body.as_str()));
            }
        }

        #[test]
        fn parameter_soup_is_accepted_only_as_the_two_forms(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "Action=GetCallerIdentity", "Version=2011-06-15", "Action=AssumeRole",
                    "&", "=", "Version=2011-06-16",
                ]),
                0..6,
            )
        ) {
            let unverified_body = parts.concat();
            let accepted = check_body(&unverified_body).is_ok();
            let well_formed = parts == ["Action=GetCallerIdentity", "&", "Version=2011-06-15"]
                || parts == ["Version=2011-06-15", "&", "Action=GetCallerIdentity"];
            prop_assert_eq!(accepted, well_formed, "{}", unverified_body);
        }
    }
}
