//! Which councils sign their people in with their own accounts (OpenID Connect), read from a TOML
//! file given to `serve --sign-in-providers`.
//!
//! ```toml
//! [stockport]                       # a council id from the seeds
//! issuer = "https://login.microsoftonline.com/<tenant>/v2.0"
//! client_id = "0f1e..."
//! client_secret_env = "STOCKPORT_OIDC_SECRET"    # or client_secret_file = "/run/secrets/..."
//! label = "Stockport Council account"            # optional: the button's words
//! ```
//!
//! The secret is never in the file itself: the file may sit in git beside the seeds, the secret
//! may not. A secret that cannot be read stops the server at start-up, naming the variable or
//! file, never the value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use councilflow_governance::{CouncilId, Organisation};
use openidconnect::{ClientId, ClientSecret, IssuerUrl};
use serde::Deserialize;

/// One council's provider, ready to use.
#[derive(Clone, Debug)]
pub struct Provider {
    pub council: CouncilId,
    /// The words on the sign-in button.
    pub label: String,
    /// The provider's issuer: discovery must answer with exactly this (Entra ID's tenant-specific
    /// issuer, never `common`).
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    /// `Debug` prints it redacted.
    pub client_secret: ClientSecret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    issuer: String,
    client_id: String,
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
    label: Option<String>,
}

/// Reads the providers file. Every error names the file, and for TOML errors the line.
pub fn load(path: &Path, organisation: &Organisation) -> Result<Vec<Provider>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
    parse(&text, organisation, |name| std::env::var(name).ok())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the file's text; `env` looks up an environment variable.
fn parse(
    text: &str,
    organisation: &Organisation,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Provider>, String> {
    let entries: BTreeMap<String, Entry> = toml::from_str(text).map_err(|e| e.to_string())?;
    entries
        .into_iter()
        .map(|(id, entry)| provider(&id, entry, organisation, &env))
        .collect()
}

fn provider(
    id: &str,
    entry: Entry,
    organisation: &Organisation,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Provider, String> {
    let council = CouncilId::parse(id)
        .ok()
        .and_then(|c| organisation.councils.get(&c))
        .ok_or_else(|| format!("[{id}] is not a council in the seeds"))?;
    let issuer = IssuerUrl::new(entry.issuer.clone())
        .map_err(|e| format!("[{id}] issuer {:?} is not a URL: {e}", entry.issuer))?;
    let secret = match (entry.client_secret_env, entry.client_secret_file) {
        (Some(var), None) => env(&var)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("[{id}] the environment variable {var} is not set"))?,
        (None, Some(file)) => std::fs::read_to_string(&file)
            .map_err(|e| {
                format!(
                    "[{id}] the secret file {} cannot be read: {e}",
                    file.display()
                )
            })?
            .trim()
            .to_owned(),
        _ => {
            return Err(format!(
                "[{id}] give exactly one of client_secret_env and client_secret_file (the \
                 secret itself is never written in this file)"
            ))
        }
    };
    if secret.is_empty() {
        return Err(format!("[{id}] the client secret is empty"));
    }
    Ok(Provider {
        council: council.id.clone(),
        label: entry
            .label
            .unwrap_or_else(|| format!("{} account", council.name)),
        issuer,
        client_id: ClientId::new(entry.client_id),
        client_secret: ClientSecret::new(secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use councilflow_governance::Council;

    fn organisation() -> Organisation {
        let mut org = Organisation::default();
        let id = CouncilId::parse("stockport").unwrap();
        org.councils.insert(
            id.clone(),
            Council {
                id,
                name: "Stockport Council".into(),
                route: None,
            },
        );
        org
    }

    fn env(name: &str) -> Option<String> {
        (name == "STOCKPORT_SECRET").then(|| "s3cret".to_owned())
    }

    #[test]
    fn a_provider_takes_its_secret_from_the_environment() {
        let text = "[stockport]\nissuer = \"https://id.example/t/v2.0\"\nclient_id = \"abc\"\n\
                    client_secret_env = \"STOCKPORT_SECRET\"\n";
        let providers = parse(text, &organisation(), env).unwrap();
        assert_eq!(providers.len(), 1);
        assert_eq!(providers[0].client_secret.secret(), "s3cret");
        assert_eq!(providers[0].label, "Stockport Council account");
        assert!(!format!("{:?}", providers[0]).contains("s3cret"));
    }

    #[test]
    fn a_secret_written_in_the_file_is_refused() {
        let text = "[stockport]\nissuer = \"https://id.example/\"\nclient_id = \"abc\"\n\
                    client_secret = \"s3cret\"\n";
        let error = parse(text, &organisation(), env).unwrap_err();
        assert!(error.contains("client_secret"), "{error}");
    }

    #[test]
    fn an_unset_variable_is_named_and_no_secret_is_shown() {
        let text = "[stockport]\nissuer = \"https://id.example/\"\nclient_id = \"abc\"\n\
                    client_secret_env = \"NOT_SET_HERE\"\n";
        let error = parse(text, &organisation(), env).unwrap_err();
        assert!(error.contains("NOT_SET_HERE is not set"), "{error}");
    }

    #[test]
    fn an_unknown_council_and_bad_toml_are_refused_with_where() {
        let text = "[stockprot]\nissuer = \"https://id.example/\"\nclient_id = \"abc\"\n\
                    client_secret_env = \"STOCKPORT_SECRET\"\n";
        let error = parse(text, &organisation(), env).unwrap_err();
        assert!(error.contains("[stockprot] is not a council"), "{error}");
        let error = parse("[stockport]\nissuer = \n", &organisation(), env).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
    }
}
