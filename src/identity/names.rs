//! The alphabets IAM allows in account ids, role names, session names and unique ids.
//!
//! Every check works byte by byte on ASCII, so no Unicode look-alike (`ſ`, the Kelvin sign)
//! and no Unicode case folding can make a name pass or two names compare equal.

/// The longest IAM role name.
pub(crate) const MAX_ROLE_NAME_LEN: usize = 64;

/// Whether `byte` is in IAM's name alphabet: `A-Za-z0-9` and `+=,.@_-`.
fn is_iam_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'=' | b',' | b'.' | b'@' | b'_' | b'-')
}

/// Whether `name` is a possible IAM role name: 1 to 64 characters of IAM's alphabet.
pub(crate) fn is_role_name(name: &str) -> bool {
    (1..=MAX_ROLE_NAME_LEN).contains(&name.len()) && name.bytes().all(is_iam_name_byte)
}

/// Whether `name` is a possible role session name: 2 to 64 characters of IAM's alphabet
/// (STS documents it as `[\w+=,.@-]*`, where `\w` is `A-Za-z0-9_`).
pub(crate) fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len()) && name.bytes().all(is_iam_name_byte)
}

/// Whether `account` is an AWS account id: exactly 12 ASCII digits.
pub(crate) fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|byte| byte.is_ascii_digit())
}

/// Whether `id` looks like an IAM unique id (`AROA...`, `AIDA...`): upper-case ASCII
/// letters and digits, at most 128 of them.
pub(crate) fn is_unique_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
}

/// Whether `id` looks like a role's unique id, which IAM always starts with `AROA`.
pub(crate) fn is_role_unique_id(id: &str) -> bool {
    id.len() > 4 && id.starts_with("AROA") && is_unique_id(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_use_only_the_iam_alphabet() {
        assert!(is_role_name("billing-api"));
        assert!(is_role_name("A+=,.@_-z9"));
        assert!(is_role_name(&"a".repeat(64)));
        for name in [
            "",
            "billing api",
            "billing/api",
            "ſervice",
            "\u{212A}afka",
            "a:b",
            "é",
        ] {
            assert!(!is_role_name(name), "{name:?}");
        }
        assert!(!is_role_name(&"a".repeat(65)));
    }

    #[test]
    fn session_names_are_two_to_sixty_four_characters() {
        assert!(is_session_name("s1"));
        assert!(!is_session_name("s"));
        assert!(!is_session_name(&"s".repeat(65)));
        assert!(!is_session_name("a b"));
    }

    #[test]
    fn account_ids_are_twelve_ascii_digits() {
        assert!(is_account_id("123456789012"));
        for account in [
            "12345678901",
            "1234567890123",
            "12345678901a",
            "١٢٣٤٥٦٧٨٩٠١٢",
        ] {
            assert!(!is_account_id(account), "{account:?}");
        }
    }

    #[test]
    fn role_unique_ids_start_with_aroa() {
        assert!(is_role_unique_id("AROAEXAMPLE123"));
        for id in ["AROA", "AIDAEXAMPLE", "aroaexample", "AROA EXAMPLE", ""] {
            assert!(!is_role_unique_id(id), "{id:?}");
        }
    }
}
