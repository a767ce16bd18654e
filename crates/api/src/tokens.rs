//! Bearer tokens and calendar feed tokens, stored hashed in `tokens.jsonl` beside the ledger.
//!
//! A bearer token is a person's key: it reads what they read and acts as them, so it travels only
//! in an `Authorization` header. A calendar feed token goes where a calendar app can take it, in
//! an address, so it is worth much less: it reads one council's calendar for one person (while
//! they still hold a role there), nothing else, and each can be revoked alone.
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
use councilflow_governance::{CouncilId, PersonId};
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
    IssueFeed {
        id: String,
        hash: String,
        person: String,
        council: String,
        at: DateTime<Utc>,
    },
    RevokeFeed {
        id: String,
        at: DateTime<Utc>,
    },
}

/// A calendar feed: one council's deadlines and committee dates, read as one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarFeed {
    /// Names the feed for listing and revoking; not a credential.
    pub id: String,
    pub person: PersonId,
    pub council: CouncilId,
    pub created_at: DateTime<Utc>,
}

/// What a calendar feed token starts with, so a person can tell it from a bearer token.
pub const FEED_TOKEN_PREFIX: &str = "cfcal_";

/// The tokens in force, re-read when the file changes.
pub struct TokenStore {
    path: PathBuf,
    state: Mutex<Loaded>,
}

#[derive(Default)]
struct Loaded {
    stamp: Option<(u64, SystemTime)>,
    by_hash: HashMap<String, PersonId>,
    feeds: HashMap<String, CalendarFeed>,
}

/// A secret of 244 bits from the operating system's CSPRNG (UUID v4 uses getrandom).
fn secret(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub(crate) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl TokenStore {
    pub fn new(data: &Path) -> TokenStore {
        TokenStore {
            path: data.join(TOKENS_FILE),
            state: Mutex::new(Loaded::default()),
        }
    }

    /// The tokens in force, re-read first if the file changed (another process appended).
    fn loaded(&self) -> std::sync::MutexGuard<'_, Loaded> {
        // A poisoned lock only means another request panicked mid-reload; the maps are rebuilt
        // from the file below, so carrying on is safe.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let stamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
        if stamp != state.stamp {
            let (by_hash, feeds) = read(&self.path);
            state.by_hash = by_hash;
            state.feeds = feeds;
            state.stamp = stamp;
        }
        state
    }

    /// The person a bearer token belongs to, if it is valid and not revoked. A calendar feed
    /// token is not a bearer token.
    pub fn authenticate(&self, token: &str) -> Option<PersonId> {
        self.loaded().by_hash.get(&digest(token)).cloned()
    }

    /// The feed a calendar feed token opens, if it is valid and not revoked.
    pub fn calendar_feed(&self, token: &str) -> Option<CalendarFeed> {
        self.loaded().feeds.get(&digest(token)).cloned()
    }

    /// A person's calendar feeds in force, oldest first.
    pub fn calendar_feeds_of(&self, person: &PersonId) -> Vec<CalendarFeed> {
        let mut feeds: Vec<CalendarFeed> = self
            .loaded()
            .feeds
            .values()
            .filter(|f| &f.person == person)
            .cloned()
            .collect();
        feeds.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        feeds
    }

    /// Issues a calendar feed token for `person` and `council`; returns the feed and the token
    /// (the only time it exists in clear).
    pub fn issue_calendar_feed(
        &self,
        person: &PersonId,
        council: &CouncilId,
    ) -> std::io::Result<(CalendarFeed, String)> {
        let token = secret(FEED_TOKEN_PREFIX);
        let feed = CalendarFeed {
            id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            person: person.clone(),
            council: council.clone(),
            created_at: Utc::now(),
        };
        self.append(&Line::IssueFeed {
            id: feed.id.clone(),
            hash: digest(&token),
            person: person.to_string(),
            council: council.to_string(),
            at: feed.created_at,
        })?;
        Ok((feed, token))
    }

    /// Revokes a calendar feed by its id.
    pub fn revoke_calendar_feed(&self, id: &str) -> std::io::Result<()> {
        self.append(&Line::RevokeFeed {
            id: id.to_owned(),
            at: Utc::now(),
        })
    }

    /// Issues a new token for `person` and returns it (the only time it exists in clear).
    pub fn issue(&self, person: &PersonId) -> std::io::Result<String> {
        let token = secret("cf_");
        self.append(&Line::Issue {
            hash: digest(&token),
            person: person.to_string(),
            at: Utc::now(),
        })?;
        Ok(token)
    }

    /// Revokes one token (a bearer token or a calendar feed token).
    pub fn revoke(&self, token: &str) -> std::io::Result<()> {
        self.append(&Line::Revoke {
            hash: digest(token),
            at: Utc::now(),
        })
    }

    /// Revokes every token of a person, calendar feeds included.
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

type Tokens = (HashMap<String, PersonId>, HashMap<String, CalendarFeed>);

fn read(path: &Path) -> Tokens {
    let mut by_hash = HashMap::new();
    let mut feeds: HashMap<String, CalendarFeed> = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return (by_hash, feeds);
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // A line cut short by a crash mid-append is skipped, not fatal: it never issued anything.
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Issue { hash, person, .. }) => {
                if let Ok(person) = PersonId::parse(&person) {
                    by_hash.insert(hash, person);
                }
            }
            Ok(Line::IssueFeed {
                id,
                hash,
                person,
                council,
                at,
            }) => {
                if let (Ok(person), Ok(council)) =
                    (PersonId::parse(&person), CouncilId::parse(&council))
                {
                    let feed = CalendarFeed {
                        id,
                        person,
                        council,
                        created_at: at,
                    };
                    feeds.insert(hash, feed);
                }
            }
            Ok(Line::Revoke { hash, .. }) => {
                by_hash.remove(&hash);
                feeds.remove(&hash);
            }
            Ok(Line::RevokeFeed { id, .. }) => feeds.retain(|_, f| f.id != id),
            Ok(Line::RevokePerson { person, .. }) => {
                by_hash.retain(|_, p| p.as_str() != person);
                feeds.retain(|_, f| f.person.as_str() != person);
            }
            Err(_) => tracing::warn!(file = %path.display(), "skipping an unreadable token line"),
        }
    }
    (by_hash, feeds)
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

    #[test]
    fn a_feed_token_opens_its_feed_only_and_is_revoked_alone_or_with_its_person() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let amy = PersonId::parse("amy").unwrap();
        let council = CouncilId::parse("stockport").unwrap();
        let bearer = store.issue(&amy).unwrap();
        let (first, first_token) = store.issue_calendar_feed(&amy, &council).unwrap();
        let (second, second_token) = store.issue_calendar_feed(&amy, &council).unwrap();
        assert!(first_token.starts_with(FEED_TOKEN_PREFIX));
        assert_eq!(store.calendar_feed(&first_token), Some(first.clone()));
        // A feed token is no bearer token, and a bearer token opens no feed.
        assert_eq!(store.authenticate(&first_token), None);
        assert_eq!(store.calendar_feed(&bearer), None);
        assert_eq!(
            store.calendar_feeds_of(&amy),
            [first.clone(), second.clone()]
        );

        TokenStore::new(dir.path())
            .revoke_calendar_feed(&first.id)
            .unwrap();
        assert_eq!(store.calendar_feed(&first_token), None);
        assert_eq!(store.calendar_feed(&second_token), Some(second));
        assert_eq!(
            store.authenticate(&bearer),
            Some(amy.clone()),
            "the rest stay"
        );

        store.revoke_person(&amy).unwrap();
        assert_eq!(store.calendar_feed(&second_token), None);
        assert!(store.calendar_feeds_of(&amy).is_empty());
        let file = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!file.contains(&second_token[FEED_TOKEN_PREFIX.len()..]));
    }
}
