//! The `verify` command: checks one token against its issuer's JWKS and prints its claims.
//!
//! Each `--issuer` is trusted with the profile its URL implies: a Cognito user pool
//! (`https://cognito-idp.<region>.amazonaws.com/<pool id>`) gets the Cognito profile, any
//! other URL the internal-auth profile. Without `--audience` the audience is not checked,
//! which suits inspecting a token by hand but says nothing about whether a given API should
//! accept it; a note on stderr says so.

use std::io::{self, BufRead as _, Write as _};
use std::process::ExitCode;

use crate::verifier::{Profile, TrustedIssuer, Verifier};

use super::CommandResult;

/// Arguments of `internal-auth verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A trusted issuer, exactly as in the token's `iss` (repeat for several). Cognito user
    /// pool URLs get the Cognito rules, others the internal-auth rules.
    #[arg(
        long = "issuer",
        value_name = "URL",
        required_unless_present = "cognito_issuers"
    )]
    pub issuers: Vec<String>,

    /// A trusted issuer held to the Cognito rules whatever its URL (repeat for several):
    /// for a user pool behind a custom domain, or a Cognito stand-in in tests.
    #[arg(long = "cognito-issuer", value_name = "URL")]
    pub cognito_issuers: Vec<String>,

    /// An accepted audience (repeat for several): `aud`, or a Cognito access token's
    /// `client_id`. Without it the audience is not checked.
    #[arg(long = "audience", value_name = "AUD")]
    pub audiences: Vec<String>,

    /// The token to check, or `-` to read it from stdin (keeps it out of the shell history
    /// and the process list).
    #[arg(value_name = "TOKEN")]
    pub token: String,
}

pub(super) async fn run(args: VerifyArgs) -> CommandResult {
    let mut builder = Verifier::builder();
    let issuers = args
        .issuers
        .iter()
        .map(|issuer| (issuer, profile_for(issuer)))
        .chain(
            args.cognito_issuers
                .iter()
                .map(|issuer| (issuer, Profile::Cognito)),
        );
    for (issuer, profile) in issuers {
        let mut trusted = TrustedIssuer::new(issuer.as_str(), profile);
        trusted = if args.audiences.is_empty() {
            trusted.dangerous_accept_any_audience()
        } else {
            trusted.audiences(args.audiences.iter().cloned())
        };
        builder = builder.issuer(trusted);
    }
    let verifier = builder.build()?;

    let token = if args.token == "-" {
        read_token_from_stdin()?
    } else {
        args.token
    };

    let claims = verifier.verify(token.trim()).await?;

    if args.audiences.is_empty() {
        eprintln!("note: the audience was not checked (no --audience given)");
    }
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string_pretty(&claims.all)?)?;
    Ok(ExitCode::SUCCESS)
}

/// The profile an issuer URL implies: Cognito for a user pool's URL, internal-auth for the
/// rest. Only the `https` form on an `amazonaws.com` host counts, so a look-alike host
/// cannot pick the Cognito rules.
fn profile_for(issuer: &str) -> Profile {
    let is_cognito = reqwest::Url::parse(issuer).is_ok_and(|url| {
        url.scheme() == "https"
            && url.host_str().is_some_and(|host| {
                host.starts_with("cognito-idp.") && host.ends_with(".amazonaws.com")
            })
    });
    if is_cognito {
        Profile::Cognito
    } else {
        Profile::InternalAuth
    }
}

/// The first line of stdin.
fn read_token_from_stdin() -> io::Result<String> {
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cognito_user_pool_urls_get_the_cognito_profile() {
        for issuer in [
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbC123",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x",
        ] {
            assert_eq!(profile_for(issuer), Profile::Cognito, "{issuer}");
        }
        for issuer in [
            "https://internal-auth.example",
            "http://cognito-idp.eu-central-1.amazonaws.com/pool",
            "https://cognito-idp.eu-central-1.amazonaws.com.evil.example/pool",
            "https://evil-cognito-idp.eu-central-1.amazonaws.com/pool",
            "not a url",
        ] {
            assert_eq!(profile_for(issuer), Profile::InternalAuth, "{issuer}");
        }
    }
}
