//! Printing an error with its causes on one line, `what failed: why: why deeper`, for logs
//! and for the command line's single error line.

use std::error::Error;
use std::fmt;

/// Displays an error followed by each of its sources, separated by `: `.
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorChain;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the key file k.pem")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn causes_follow_the_error_on_one_line() {
        let error = Outer(std::io::Error::other("permission denied"));
        assert_eq!(
            ErrorChain(&error).to_string(),
            "cannot read the key file k.pem: permission denied"
        );
    }
}
