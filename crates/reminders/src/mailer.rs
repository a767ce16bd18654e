//! Sending: SMTP (lettre, from a URL) or `.eml` files in a folder, every send bounded by a timeout.
//!
//! lettre's own timeout covers connecting and each read, but not a server that accepts the
//! connection and then stalls mid-conversation across many small waits; so every send runs under
//! `tokio::time::timeout` as well. Failures are classified for retrying: SMTP 5xx is permanent;
//! 4xx, refused connections, TLS and network errors and timeouts are temporary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

/// Why a send did not go.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later.
    #[error("{0}")]
    Temporary(String),
    /// The server refused for good (an SMTP 5xx).
    #[error("{0}")]
    Permanent(String),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Where reminders go.
pub struct Mailer {
    transport: Transport,
    timeout: Duration,
    description: String,
}

impl Mailer {
    /// SMTP from a lettre URL: `smtp://host:port` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://host:465` (TLS), with `user:password@` for credentials.
    pub fn smtp(url: &str, timeout: Duration) -> Result<Mailer, String> {
        // Never print credentials, in a description or an error: only the URL without them.
        let shown = without_credentials(url);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("the SMTP URL {shown} is not usable: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Mailer {
            transport: Transport::Smtp(transport),
            timeout,
            description: format!("SMTP {shown}"),
        })
    }

    /// `.eml` files in `dir` (created if missing).
    pub fn files(dir: &Path, timeout: Duration) -> std::io::Result<Mailer> {
        std::fs::create_dir_all(dir)?;
        Ok(Mailer {
            transport: Transport::Files(AsyncFileTransport::new(dir)),
            timeout,
            description: format!(".eml files in {}", dir.display()),
        })
    }

    /// Where mail goes, for the start-up message.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// The folder of the file transport, if that is the transport.
    pub fn folder(&self) -> Option<PathBuf> {
        match &self.transport {
            Transport::Files(_) => self
                .description
                .strip_prefix(".eml files in ")
                .map(PathBuf::from),
            Transport::Smtp(_) => None,
        }
    }

    /// Sends one message, within the timeout.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        let timeout = self.timeout;
        let timed_out = || {
            SendError::Temporary(format!(
                "the mail server did not finish within {} s",
                timeout.as_secs()
            ))
        };
        match &self.transport {
            Transport::Smtp(smtp) => {
                match tokio::time::timeout(timeout, smtp.send(message)).await {
                    Err(_) => Err(timed_out()),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                    Ok(Err(e)) => Err(SendError::Temporary(e.to_string())),
                }
            }
            Transport::Files(files) => {
                match tokio::time::timeout(timeout, files.send(message)).await {
                    Err(_) => Err(timed_out()),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(SendError::Temporary(e.to_string())),
                }
            }
        }
    }
}

/// The SMTP URL with any user name and password replaced by `***`; a URL that does not parse is
/// not shown at all (it may hold a password in a place a parser would not find).
pub fn without_credentials(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let had_credentials = !parsed.username().is_empty() || parsed.password().is_some();
            let _ = parsed.set_password(None);
            let _ = parsed.set_username(if had_credentials { "***" } else { "" });
            parsed.to_string()
        }
        Err(_) => "(not shown: it does not parse as a URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_smtp_url_is_never_shown() {
        let shown = without_credentials("smtps://clerk:s3cret%40pass@mail.example.org:465");
        assert_eq!(shown, "smtps://***@mail.example.org:465");
        assert_eq!(
            without_credentials("smtp://localhost:2525?tls=required"),
            "smtp://localhost:2525?tls=required"
        );
        assert!(!without_credentials("smtps://clerk:s3cret@").contains("s3cret"));
    }

    #[test]
    fn an_unusable_smtp_url_is_refused_without_its_password() {
        for url in [
            "smtps://clerk:s3cret@",
            "smtp://clerk:s3cret@host:notaport",
            "s3cret",
        ] {
            let Err(e) = Mailer::smtp(url, Duration::from_secs(1)) else {
                panic!("{url} was accepted")
            };
            assert!(!e.contains("s3cret"), "{e}");
        }
    }
}
