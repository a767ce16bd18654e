//! Errors: `GovernanceError` for refused commands (each maps to one API error code) and
//! `DefinitionError` for workflow or seed files that cannot be loaded.
//!
//! Messages are written for the council officer who will read them in a client: they use display
//! names ("the Monitoring Officer of Derbyshire Dales District Council") and say what to do next.

use std::fmt;

/// Why a command was refused. The variant decides the API error code; the message says why in
/// words a council officer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GovernanceError {
    /// The actor does not hold the role the act needs (`FORBIDDEN`).
    #[error("{0}")]
    Forbidden(String),
    /// The act would break the governance route (`GOVERNANCE_VIOLATION`).
    #[error("{0}")]
    GovernanceViolation(String),
    /// Someone else acted first, or the act was already done (`CONFLICT`).
    #[error("{0}")]
    Conflict(String),
    /// An id names nothing that exists (`NOT_FOUND`).
    #[error("{0}")]
    NotFound(String),
    /// The command itself is malformed or incomplete (`BAD_INPUT`).
    #[error("{0}")]
    BadInput(String),
}

impl GovernanceError {
    /// The API error code (`extensions.code` in GraphQL).
    pub fn code(&self) -> &'static str {
        match self {
            GovernanceError::Forbidden(_) => "FORBIDDEN",
            GovernanceError::GovernanceViolation(_) => "GOVERNANCE_VIOLATION",
            GovernanceError::Conflict(_) => "CONFLICT",
            GovernanceError::NotFound(_) => "NOT_FOUND",
            GovernanceError::BadInput(_) => "BAD_INPUT",
        }
    }

    /// The message without the code.
    pub fn message(&self) -> &str {
        match self {
            GovernanceError::Forbidden(m)
            | GovernanceError::GovernanceViolation(m)
            | GovernanceError::Conflict(m)
            | GovernanceError::NotFound(m)
            | GovernanceError::BadInput(m) => m,
        }
    }
}

/// A workflow or seed file that cannot be loaded: which file, where (1-based line and column, when
/// known) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    /// The file name the text was read from, as given to the parser.
    pub file: String,
    /// 1-based line, when the problem has a place in the text.
    pub line: Option<usize>,
    /// 1-based column (in characters), when the problem has a place in the text.
    pub column: Option<usize>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl DefinitionError {
    /// An error at a byte offset of `text`.
    pub(crate) fn at(file: &str, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_column(text, offset);
        DefinitionError {
            file: file.to_owned(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    /// An error about the file as a whole.
    pub(crate) fn whole(file: &str, message: impl Into<String>) -> Self {
        DefinitionError {
            file: file.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// Converts a TOML syntax or shape error, keeping its position.
    pub(crate) fn from_toml(file: &str, text: &str, err: &toml::de::Error) -> Self {
        let message = err.message().trim().to_owned();
        match err.span() {
            Some(span) => DefinitionError::at(file, text, span.start, message),
            None => DefinitionError::whole(file, message),
        }
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            (Some(l), None) => write!(f, "{}:{}: {}", self.file, l, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for DefinitionError {}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_variant_maps_to_its_api_code() {
        let cases = [
            (GovernanceError::Forbidden("x".into()), "FORBIDDEN"),
            (
                GovernanceError::GovernanceViolation("x".into()),
                "GOVERNANCE_VIOLATION",
            ),
            (GovernanceError::Conflict("x".into()), "CONFLICT"),
            (GovernanceError::NotFound("x".into()), "NOT_FOUND"),
            (GovernanceError::BadInput("x".into()), "BAD_INPUT"),
        ];
        for (err, code) in cases {
            assert_eq!(err.code(), code);
            assert_eq!(err.message(), "x");
        }
    }

    #[test]
    fn line_and_column_are_one_based() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 9), (2, 4));
    }

    #[test]
    fn a_definition_error_displays_file_line_and_column() {
        let e = DefinitionError::at("w.toml", "a\nb", 2, "bad");
        assert_eq!(e.to_string(), "w.toml:2:1: bad");
    }
}
