//! Bearer tokens, stored hashed in `tokens.jsonl` beside the ledger.
//!
//! Why a file and not ledger events: `councilflow token` must work while the server holds the data
//! folder's lock. The file is append-only (`issue` and `revoke` lines, each one `write` of a
//! short line with `O_APPEND`, then `fdatasync`), so the CLI and the server can both use it, and the
//! server re-reads it whenever its size or modification time changes — a revocation takes effect
//! on the next request. Only SHA-256 digests of tokens are stored: the file leaks no credential.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use councilflow_governance::PersonId;
use councilflow_ledger::durable;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file's name inside the data folder.
pub const TOKENS_FILE: &str = "tokens.jsonl";

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
enum Line {
    Issue {
        hash: String,
        person: String,
        at: DateTime<Utc>,
    },
    Revoke {
        hash: String,
        at: DateTime<Utc>,
    },
    RevokePerson {
        person: String,
        at: DateTime<Utc>,
    },
}

/// The tokens in force, re-read when the file changes.
pub struct TokenStore {
    path: PathBuf,
    state: Mutex<Loaded>,
}

#[derive(Default)]
struct Loaded {
    stamp: Option<(u64, SystemTime)>,
    by_hash: HashMap<String, PersonId>,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl TokenStore {
    pub fn new(data: &Path) -> TokenStore {
        TokenStore {
            path: data.join(TOKENS_FILE),
            state: Mutex::new(Loaded::default()),
        }
    }

    /// The person a token belongs to, if it is valid and not revoked.
    pub fn authenticate(&self, token: &str) -> Option<PersonId> {
        let hash = digest(token);
        // A poisoned lock only means another request panicked mid-reload; the map is rebuilt
        // from the file below, so carrying on is safe.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let stamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
        if stamp != state.stamp {
            state.by_hash = read(&self.path);
            state.stamp = stamp;
        }
        state.by_hash.get(&hash).cloned()
    }

    /// Issues a new token for `person` and returns it (the only time it exists in clear).
    pub fn issue(&self, person: &PersonId) -> std::io::Result<String> {
        // 244 bits from the operating system's CSPRNG (UUID v4 uses getrandom).
        let token = format!(
            "cf_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.append(&Line::Issue {
            hash: digest(&token),
            person: person.to_string(),
            at: Utc::now(),
        })?;
        Ok(token)
    }

    /// Revokes one token.
    pub fn revoke(&self, token: &str) -> std::io::Result<()> {
        self.append(&Line::Revoke {
            hash: digest(token),
            at: Utc::now(),
        })
    }

    /// Revokes every token of a person.
    pub fn revoke_person(&self, person: &PersonId) -> std::io::Result<()> {
        self.append(&Line::RevokePerson {
            person: person.to_string(),
            at: Utc::now(),
        })
    }

    /// One short line, appended whole and synced (the file is created readable by its owner
    /// only): appends from the CLI and the server never interleave, and a power cut that tears
    /// an unsynced line cannot take the next one with it (see `durable::append_line`).
    fn append(&self, line: &Line) -> std::io::Result<()> {
        let text = serde_json::to_string(line).map_err(std::io::Error::other)?;
        durable::append_line(&self.path, &text, 0o600)
    }
}

fn read(path: &Path) -> HashMap<String, PersonId> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut by_hash = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // A line cut short by a crash mid-append is skipped, not fatal: it never issued anything.
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Issue { hash, person, .. }) => {
                if let Ok(person) = PersonId::parse(&person) {
                    by_hash.insert(hash, person);
                }
            }
            Ok(Line::Revoke { hash, .. }) => {
                by_hash.remove(&hash);
            }
            Ok(Line::RevokePerson { person, .. }) => {
                by_hash.retain(|_, p| p.as_str() != person);
            }
            Err(_) => tracing::warn!(file = %path.display(), "skipping an unreadable token line"),
        }
    }
    by_hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_authenticates_until_it_is_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let amy = PersonId::parse("amy").unwrap();
        let token = store.issue(&amy).unwrap();
        assert_eq!(store.authenticate(&token), Some(amy.clone()));
        assert_eq!(store.authenticate("cf_not-a-token"), None);
        // Another process (the CLI) revokes through its own store on the same file.
        TokenStore::new(dir.path()).revoke(&token).unwrap();
        assert_eq!(store.authenticate(&token), None);
    }

    #[test]
    fn revoking_a_person_revokes_all_their_tokens_and_the_file_holds_no_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let amy = PersonId::parse("amy").unwrap();
        let bob = PersonId::parse("bob").unwrap();
        let (a1, a2, b) = (
            store.issue(&amy).unwrap(),
            store.issue(&amy).unwrap(),
            store.issue(&bob).unwrap(),
        );
        store.revoke_person(&amy).unwrap();
        assert_eq!(store.authenticate(&a1), None);
        assert_eq!(store.authenticate(&a2), None);
        assert_eq!(store.authenticate(&b), Some(bob));
        let file = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!file.contains(&b[3..]));
    }
}
