//! The JSON shapes of `POST /v1/token`, shared by the service and its client so the two
//! cannot drift apart. See `docs/openapi.yaml` for the same API in OpenAPI form.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The body of `POST /v1/token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The signed `GetCallerIdentity` request, as the caller would have sent it to STS.
    pub sts_request: StsRequest,
    /// The organisation the caller acts for; it must be one its service may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The lifetime asked for, in seconds; capped by the service's `max_ttl_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// A signed HTTP request to STS, carried inside [`TokenRequest`].
///
/// On the service side every field is untrusted until `forwarded` has checked it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StsRequest {
    /// The HTTP method; only `POST` is accepted.
    pub method: String,
    /// The full URL, for example `https://sts.eu-central-1.amazonaws.com/`.
    pub url: String,
    /// The request's headers, including `Authorization`.
    pub headers: HeaderList,
    /// The form-encoded body.
    pub body: String,
}

/// Header names and values in the order given, keeping every entry.
///
/// A JSON object with the same key twice is legal JSON, and most readers keep only the
/// last one. This one keeps both, so the service can refuse the duplicate instead of
/// silently checking one value while another was signed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HeaderList(pub Vec<(String, String)>);

impl HeaderList {
    /// The entries, in the order they were given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Number of entries, duplicates included.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for HeaderList {
    /// Lists the names only: values hold signatures and session tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Serialize for HeaderList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EveryEntry;

        impl<'de> Visitor<'de> for EveryEntry {
            type Value = HeaderList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object mapping header names to strings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderList, A::Error> {
                // Bounded by the envelope's size limit, so no cap is needed here.
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8).min(32));
                while let Some(entry) = map.next_entry::<String, String>()? {
                    entries.push(entry);
                }
                Ok(HeaderList(entries))
            }
        }

        deserializer.deserialize_map(EveryEntry)
    }
}

/// The 200 answer of `POST /v1/token`.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The signed JWT.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// The granted lifetime in seconds (`exp - iat`).
    pub expires_in: u64,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Every error answer of the service: a stable code and one sentence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// A stable, machine-readable code such as `stale_signature`.
    pub error: String,
    /// One sentence for a person.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_header_names_are_all_kept() {
        let json = r#"{"method":"POST","url":"u","body":"b",
            "headers":{"X-Amz-Date":"1","X-Amz-Date":"2"}}"#;
        let request: StsRequest = serde_json::from_str(json).expect("valid JSON");
        assert_eq!(request.headers.len(), 2);
    }

    #[test]
    fn header_values_must_be_strings() {
        let json = r#"{"method":"POST","url":"u","body":"b","headers":{"A":1}}"#;
        assert!(serde_json::from_str::<StsRequest>(json).is_err());
    }

    #[test]
    fn debug_never_prints_header_values() {
        let headers = HeaderList(vec![("Authorization".into(), "secret-sig".into())]);
        assert!(!format!("{headers:?}").contains("secret-sig"));
    }
}
