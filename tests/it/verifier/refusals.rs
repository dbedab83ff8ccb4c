//! Tokens that must be accepted and tokens that must be refused, each with its exact reason,
//! against one verifier trusting a Cognito user pool and an internal-auth issuer at once.

use std::sync::Arc;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use internal_auth::clock::ManualClock;
use internal_auth::verifier::{Profile, TrustedIssuer, Verifier, VerifyError};
use serde_json::{Value, json};

use super::{
    COGNITO_CLIENT, COGNITO_ISSUER, INTERNAL_AUDIENCE, INTERNAL_ISSUER, JwksHost, START, TestKey,
    internal_claims, signing_input,
};

/// The internal-auth signing key.
fn internal_key() -> TestKey {
    TestKey::new(0, "internal-1")
}

/// The Cognito user pool's signing key.
fn cognito_key() -> TestKey {
    TestKey::new(1, "cognito-1")
}

/// Two issuers, each with its own JWKS host and key, in one verifier.
struct SideBySide {
    internal_host: JwksHost,
    cognito_host: JwksHost,
    verifier: Verifier,
}

fn side_by_side() -> SideBySide {
    let internal_host = JwksHost::start(&[internal_key()]);
    let cognito_host = JwksHost::start(&[cognito_key()]);
    let verifier = Verifier::builder()
        .issuer(
            TrustedIssuer::internal_auth(INTERNAL_ISSUER)
                .jwks_url(internal_host.jwks_url())
                .audience(INTERNAL_AUDIENCE),
        )
        .issuer(
            TrustedIssuer::cognito(COGNITO_ISSUER)
                .jwks_url(cognito_host.jwks_url())
                .audience(COGNITO_CLIENT),
        )
        .clock(Arc::new(ManualClock::at_unix(START)))
        .build()
        .expect("valid configuration");
    SideBySide {
        internal_host,
        cognito_host,
        verifier,
    }
}

/// `header.claims.` signed with HMAC-SHA256 under `secret`.
fn hmac_token(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let input = signing_input(header, claims);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[tokio::test]
async fn cognito_and_internal_auth_tokens_are_accepted_side_by_side() {
    let setup = side_by_side();

    let internal = setup
        .verifier
        .verify(&internal_key().internal_token(START, json!({})))
        .await
        .expect("internal-auth token");
    assert_eq!(internal.profile, Profile::InternalAuth);
    assert_eq!(internal.iss, INTERNAL_ISSUER);
    assert_eq!(internal.sub, "billing");
    assert_eq!(internal.client_id.as_deref(), Some("billing"));
    assert_eq!(internal.aud, [INTERNAL_AUDIENCE]);
    assert_eq!(internal.exp, START + 900);
    assert_eq!(
        internal.all["callerIdentity"],
        "arn:aws:sts::123456789012:assumed-role/billing-api/i-0abc"
    );

    let id_token = setup
        .verifier
        .verify(&cognito_key().cognito_token(START, json!({})))
        .await
        .expect("Cognito ID token");
    assert_eq!(id_token.profile, Profile::Cognito);
    assert_eq!(id_token.all["email"], "someone@example.com");

    let access_token = cognito_key().cognito_token(
        START,
        json!({
            "token_use": "access",
            "aud": null,
            "client_id": COGNITO_CLIENT,
            "scope": "aws.cognito.signin.user.admin",
        }),
    );
    let access = setup
        .verifier
        .verify(&access_token)
        .await
        .expect("Cognito access token");
    assert!(access.aud.is_empty());
    assert_eq!(access.client_id.as_deref(), Some(COGNITO_CLIENT));

    // Each issuer's keys were fetched once, from its own host.
    assert_eq!(setup.internal_host.fetches(), 1);
    assert_eq!(setup.cognito_host.fetches(), 1);
}

#[tokio::test]
async fn each_bad_token_is_refused_for_its_exact_reason() {
    let setup = side_by_side();
    let key = internal_key();
    let claims = internal_claims(START, json!({}));

    let tampered = {
        let genuine = key.internal_token(START, json!({}));
        let parts: Vec<&str> = genuine.split('.').collect();
        let forged_claims =
            internal_claims(START, json!({"sub": "payments", "client_id": "payments"}));
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(forged_claims.to_string()),
            parts[2]
        )
    };
    let hs256_header = json!({"alg": "HS256", "typ": "at+jwt", "kid": key.kid});
    let modulus = key.jwk()["n"].as_str().unwrap_or_default().to_owned();

    let cases: Vec<(&str, String, VerifyError)> = vec![
        ("tampered payload", tampered, VerifyError::BadSignature),
        (
            "same kid, another key",
            TestKey::new(2, "internal-1").internal_token(START, json!({})),
            VerifyError::BadSignature,
        ),
        (
            "signature of another token",
            {
                let other = key.internal_token(START, json!({"jti": "another"}));
                let genuine = key.internal_token(START, json!({}));
                let signature = other.rsplit('.').next().unwrap_or_default();
                let (input, _) = genuine.rsplit_once('.').unwrap_or_default();
                format!("{input}.{signature}")
            },
            VerifyError::BadSignature,
        ),
        (
            "unknown issuer",
            key.internal_token(START, json!({"iss": "https://internal-auth.evil"})),
            VerifyError::UnknownIssuer,
        ),
        (
            "issuer differing by a trailing slash",
            key.internal_token(START, json!({"iss": format!("{INTERNAL_ISSUER}/")})),
            VerifyError::UnknownIssuer,
        ),
        (
            "expired",
            key.internal_token(START - 2_000, json!({})),
            VerifyError::Expired,
        ),
        (
            "not yet valid",
            key.internal_token(START, json!({"nbf": START + 600})),
            VerifyError::NotYetValid,
        ),
        (
            "issued in the future",
            key.internal_token(START, json!({"iat": START + 600, "nbf": null})),
            VerifyError::IssuedInTheFuture,
        ),
        (
            "wrong audience",
            key.internal_token(START, json!({"aud": "payments-api"})),
            VerifyError::WrongAudience,
        ),
        (
            "no audience",
            key.internal_token(START, json!({"aud": null})),
            VerifyError::MissingClaim("aud"),
        ),
        (
            "alg none",
            format!(
                "{}.",
                signing_input(
                    &json!({"alg": "none", "typ": "at+jwt", "kid": key.kid}),
                    &claims
                )
            ),
            VerifyError::AlgorithmNotAllowed,
        ),
        (
            "HS256 keyed with the public modulus",
            hmac_token(&hs256_header, &claims, modulus.as_bytes()),
            VerifyError::AlgorithmNotAllowed,
        ),
        (
            "HS256 keyed with the public key PEM",
            hmac_token(&hs256_header, &claims, key.public_pem().as_bytes()),
            VerifyError::AlgorithmNotAllowed,
        ),
        (
            "RS384 when only RS256 is allowed",
            key.sign(
                &json!({"alg": "RS384", "typ": "at+jwt", "kid": key.kid}),
                &claims,
            ),
            VerifyError::AlgorithmNotAllowed,
        ),
        (
            "no kid",
            key.sign(&json!({"alg": "RS256", "typ": "at+jwt"}), &claims),
            VerifyError::MissingKid,
        ),
        (
            "unknown kid",
            key.sign(
                &json!({"alg": "RS256", "typ": "at+jwt", "kid": "nobody"}),
                &claims,
            ),
            VerifyError::UnknownKid,
        ),
        (
            "internal-auth token without typ",
            key.sign(&json!({"alg": "RS256", "kid": key.kid}), &claims),
            VerifyError::WrongType,
        ),
        (
            "internal-auth token typed JWT",
            key.sign(
                &json!({"alg": "RS256", "typ": "JWT", "kid": key.kid}),
                &claims,
            ),
            VerifyError::WrongType,
        ),
        (
            "internal-auth token without jti",
            key.internal_token(START, json!({"jti": null})),
            VerifyError::MissingClaim("jti"),
        ),
        (
            "internal-auth token without client_id",
            key.internal_token(START, json!({"client_id": null})),
            VerifyError::MissingClaim("client_id"),
        ),
        (
            "internal-auth token without sub",
            key.internal_token(START, json!({"sub": null})),
            VerifyError::MissingClaim("sub"),
        ),
        (
            "no exp",
            key.internal_token(START, json!({"exp": null})),
            VerifyError::MissingClaim("exp"),
        ),
        (
            "Cognito refresh token_use",
            cognito_key().cognito_token(START, json!({"token_use": "refresh"})),
            VerifyError::WrongTokenUse,
        ),
        (
            "Cognito access token for another client",
            cognito_key().cognito_token(
                START,
                json!({"token_use": "access", "aud": null, "client_id": "another-client"}),
            ),
            VerifyError::WrongAudience,
        ),
        (
            "Cognito ID token for another client",
            cognito_key().cognito_token(START, json!({"aud": "another-client"})),
            VerifyError::WrongAudience,
        ),
        (
            // The internal-auth key is not in the user pool's key set, whatever the kid.
            "Cognito issuer signed with the internal-auth key",
            key.sign(
                &json!({"alg": "RS256", "kid": key.kid}),
                &super::merge(
                    claims.clone(),
                    json!({"iss": COGNITO_ISSUER, "token_use": "id", "aud": COGNITO_CLIENT}),
                ),
            ),
            VerifyError::UnknownKid,
        ),
        ("not a JWT", "not-a-jwt".to_owned(), VerifyError::Malformed),
    ];

    for (name, token, expected) in cases {
        assert_eq!(setup.verifier.verify(&token).await, Err(expected), "{name}");
    }
}

#[tokio::test]
async fn an_unknown_issuer_or_a_refused_algorithm_causes_no_fetch() {
    let setup = side_by_side();
    let key = internal_key();

    let unknown_issuer = key.internal_token(START, json!({"iss": "https://elsewhere.test"}));
    assert_eq!(
        setup.verifier.verify(&unknown_issuer).await,
        Err(VerifyError::UnknownIssuer)
    );
    let claims = internal_claims(START, json!({}));
    let hs256 = hmac_token(
        &json!({"alg": "HS256", "typ": "at+jwt", "kid": key.kid}),
        &claims,
        b"secret",
    );
    assert_eq!(
        setup.verifier.verify(&hs256).await,
        Err(VerifyError::AlgorithmNotAllowed)
    );

    assert_eq!(setup.internal_host.fetches(), 0);
    assert_eq!(setup.cognito_host.fetches(), 0);
}

#[tokio::test]
async fn refusals_are_one_sentence_without_the_token() {
    let setup = side_by_side();
    let token = internal_key().internal_token(START - 2_000, json!({}));

    let error = setup.verifier.verify(&token).await.expect_err("expired");

    let message = error.to_string();
    assert_eq!(message, "the token has expired");
    for part in token.split('.') {
        assert!(!message.contains(part));
        assert!(!format!("{error:?}").contains(part));
    }
}
