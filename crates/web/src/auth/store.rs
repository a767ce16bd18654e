//! Sign-in links and sessions, kept in `web-sessions.jsonl` beside the ledger, hashed.
//!
//! A file of its own, not the ledger, for the reasons `tokens.jsonl` is one (see
//! `councilflow_api::tokens`): `councilflow sign-in-link` and `councilflow sessions
//! --revoke-person` must work while the server holds the data folder, and signing in is access,
//! not a governance act. Lines are appended whole and synced; the server re-reads the file when
//! it changes, so a revocation from the command line takes effect on the next request. Only
//! SHA-256 digests of links and session ids are stored: the file holds no credential.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use chrono::{DateTime, Duration, Utc};
use councilflow_governance::PersonId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file's name inside the data folder.
pub const SESSIONS_FILE: &str = "web-sessions.jsonl";
/// A sign-in link works once, within this long of being sent.
pub const LINK_LIFETIME: Duration = Duration::minutes(15);
/// A session ends after this long without a request...
pub const IDLE: Duration = Duration::hours(2);
/// ...and after this long whatever happens: a working day, then sign in again.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// How often a session's last use is written down (it is kept exactly in memory).
const SEEN_EVERY: Duration = Duration::minutes(5);

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
enum Line {
    Link {
        hash: String,
        person: String,
        expires: DateTime<Utc>,
        /// Where to go once signed in (a path on this server).
        next: Option<String>,
    },
    LinkUsed {
        hash: String,
        at: DateTime<Utc>,
    },
    Session {
        hash: String,
        person: String,
        at: DateTime<Utc>,
    },
    Seen {
        hash: String,
        at: DateTime<Utc>,
    },
    SignOut {
        hash: String,
        at: DateTime<Utc>,
    },
    RevokePerson {
        person: String,
        at: DateTime<Utc>,
    },
}

struct Link {
    person: PersonId,
    expires: DateTime<Utc>,
    next: Option<String>,
}

struct Session {
    person: PersonId,
    started: DateTime<Utc>,
    seen: DateTime<Utc>,
    written: DateTime<Utc>,
}

#[derive(Default)]
struct Loaded {
    stamp: Option<(u64, SystemTime)>,
    links: HashMap<String, Link>,
    used: HashSet<String>,
    sessions: HashMap<String, Session>,
}

/// Why a sign-in link did not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    Unknown,
    Used,
    Expired,
}

/// A person signed in by a link, and where they were going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub person: PersonId,
    pub next: Option<String>,
}

pub struct AuthStore {
    path: PathBuf,
    state: Mutex<Loaded>,
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// 244 bits from the operating system's CSPRNG (UUID v4 uses getrandom).
pub fn secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl AuthStore {
    pub fn new(data: &Path) -> AuthStore {
        AuthStore {
            path: data.join(SESSIONS_FILE),
            state: Mutex::new(Loaded::default()),
        }
    }

    fn loaded(&self) -> MutexGuard<'_, Loaded> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let stamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
        if stamp != state.stamp {
            *state = read(&self.path);
            state.stamp = stamp;
        }
        state
    }

    fn append(&self, line: &Line) -> std::io::Result<()> {
        let text = serde_json::to_string(line).map_err(std::io::Error::other)?;
        councilflow_ledger::durable::append_line(&self.path, &text, 0o600)
    }

    /// A new sign-in link's secret for `person` (the only time it exists in clear).
    pub fn issue_link(&self, person: &PersonId, next: Option<&str>) -> std::io::Result<String> {
        let secret = secret();
        self.append(&Line::Link {
            hash: digest(&secret),
            person: person.to_string(),
            expires: Utc::now() + LINK_LIFETIME,
            next: next.map(str::to_owned),
        })?;
        Ok(secret)
    }

    /// Whether the link would sign someone in now, without using it (the page with the button).
    pub fn check_link(&self, secret: &str) -> Result<(), LinkRefused> {
        let state = self.loaded();
        let hash = digest(secret);
        match state.links.get(&hash) {
            None => Err(LinkRefused::Unknown),
            Some(_) if state.used.contains(&hash) => Err(LinkRefused::Used),
            Some(link) if link.expires <= Utc::now() => Err(LinkRefused::Expired),
            Some(_) => Ok(()),
        }
    }

    /// Uses the link (once) and starts a session: the person, where they were going, and the new
    /// session's id.
    pub fn sign_in(&self, secret: &str) -> Result<(SignedIn, String), SignInError> {
        let hash = digest(secret);
        let mut state = self.loaded();
        let (person, next) = match state.links.get(&hash) {
            None => return Err(SignInError::Refused(LinkRefused::Unknown)),
            Some(_) if state.used.contains(&hash) => {
                return Err(SignInError::Refused(LinkRefused::Used))
            }
            Some(link) if link.expires <= Utc::now() => {
                return Err(SignInError::Refused(LinkRefused::Expired))
            }
            Some(link) => (link.person.clone(), link.next.clone()),
        };
        let now = Utc::now();
        // The use is durable before the session exists: a link never signs in twice.
        self.append(&Line::LinkUsed {
            hash: hash.clone(),
            at: now,
        })
        .map_err(SignInError::Io)?;
        state.used.insert(hash);
        let session = self
            .new_session(&mut state, &person, now)
            .map_err(SignInError::Io)?;
        Ok((SignedIn { person, next }, session))
    }

    /// Starts a session for a person another way has signed in (their council's own accounts):
    /// the new session's id.
    pub fn start_session(&self, person: &PersonId) -> std::io::Result<String> {
        let mut state = self.loaded();
        self.new_session(&mut state, person, Utc::now())
    }

    fn new_session(
        &self,
        state: &mut Loaded,
        person: &PersonId,
        now: chrono::DateTime<Utc>,
    ) -> std::io::Result<String> {
        let session = self::secret();
        self.append(&Line::Session {
            hash: digest(&session),
            person: person.to_string(),
            at: now,
        })?;
        state.sessions.insert(
            digest(&session),
            Session {
                person: person.clone(),
                started: now,
                seen: now,
                written: now,
            },
        );
        // Our own append changed the file: remember its new stamp so it is not re-read.
        state.stamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
        Ok(session)
    }

    /// The person signed in by session `id`, if it is in force (and notes its use).
    pub fn session(&self, id: &str) -> Option<PersonId> {
        let hash = digest(id);
        let now = Utc::now();
        let mut state = self.loaded();
        let session = state.sessions.get_mut(&hash)?;
        if now - session.seen > IDLE || now - session.started > ABSOLUTE {
            return None;
        }
        session.seen = now;
        let person = session.person.clone();
        if now - session.written > SEEN_EVERY {
            session.written = now;
            drop(state);
            if let Err(e) = self.append(&Line::Seen { hash, at: now }) {
                tracing::warn!(error = %e, "could not note a session's use");
            }
        }
        Some(person)
    }

    /// Ends one session (signing out).
    pub fn sign_out(&self, id: &str) -> std::io::Result<()> {
        self.append(&Line::SignOut {
            hash: digest(id),
            at: Utc::now(),
        })
    }

    /// Ends every session of `person`, and their unused links.
    pub fn revoke_person(&self, person: &PersonId) -> std::io::Result<()> {
        self.append(&Line::RevokePerson {
            person: person.to_string(),
            at: Utc::now(),
        })
    }
}

/// Why signing in did not happen.
#[derive(Debug)]
pub enum SignInError {
    Refused(LinkRefused),
    Io(std::io::Error),
}

fn read(path: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    let Ok(text) = std::fs::read_to_string(path) else {
        return loaded;
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(line) = serde_json::from_str::<Line>(line) else {
            // A line cut short by a crash mid-append: it never signed anyone in.
            tracing::warn!(file = %path.display(), "skipping an unreadable session line");
            continue;
        };
        match line {
            Line::Link {
                hash,
                person,
                expires,
                next,
            } => {
                if let Ok(person) = PersonId::parse(&person) {
                    loaded.links.insert(
                        hash,
                        Link {
                            person,
                            expires,
                            next,
                        },
                    );
                }
            }
            Line::LinkUsed { hash, .. } => {
                loaded.used.insert(hash);
            }
            Line::Session { hash, person, at } => {
                if let Ok(person) = PersonId::parse(&person) {
                    let session = Session {
                        person,
                        started: at,
                        seen: at,
                        written: at,
                    };
                    loaded.sessions.insert(hash, session);
                }
            }
            Line::Seen { hash, at } => {
                if let Some(s) = loaded.sessions.get_mut(&hash) {
                    s.seen = s.seen.max(at);
                    s.written = s.seen;
                }
            }
            Line::SignOut { hash, .. } => {
                loaded.sessions.remove(&hash);
            }
            Line::RevokePerson { person, at } => {
                loaded.sessions.retain(|_, s| s.person.as_str() != person);
                loaded
                    .links
                    .retain(|_, l| l.person.as_str() != person || l.expires <= at);
            }
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amy() -> PersonId {
        PersonId::parse("amy").unwrap()
    }

    #[test]
    fn a_link_signs_in_once_and_its_session_lasts_until_signed_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = AuthStore::new(dir.path());
        let link = store.issue_link(&amy(), Some("/plans/p")).unwrap();
        assert_eq!(store.check_link(&link), Ok(()));
        let (signed_in, session) = store.sign_in(&link).unwrap();
        assert_eq!(signed_in.person, amy());
        assert_eq!(signed_in.next.as_deref(), Some("/plans/p"));
        assert!(matches!(
            store.sign_in(&link),
            Err(SignInError::Refused(LinkRefused::Used))
        ));
        assert_eq!(store.session(&session), Some(amy()));
        store.sign_out(&session).unwrap();
        assert_eq!(store.session(&session), None);
    }

    #[test]
    fn revoking_a_person_from_another_process_ends_their_sessions_and_the_file_holds_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let store = AuthStore::new(dir.path());
        let (_, session) = store
            .sign_in(&store.issue_link(&amy(), None).unwrap())
            .unwrap();
        let unused = store.issue_link(&amy(), None).unwrap();
        AuthStore::new(dir.path()).revoke_person(&amy()).unwrap();
        assert_eq!(store.session(&session), None);
        assert_eq!(store.check_link(&unused), Err(LinkRefused::Unknown));
        let file = std::fs::read_to_string(dir.path().join(SESSIONS_FILE)).unwrap();
        assert!(!file.contains(&session) && !file.contains(&unused));
    }

    #[test]
    fn an_unknown_link_signs_no_one_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = AuthStore::new(dir.path());
        assert_eq!(store.check_link("nope"), Err(LinkRefused::Unknown));
    }
}
