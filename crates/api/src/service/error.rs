//! What the service answers when it cannot do what was asked, each with the contract's error
//! code. Refusals (the request is wrong, or not allowed, or too late) carry the governance
//! engine's [`GovernanceError`], which also holds the codes the service uses for what it checks
//! itself: the contract's five refusal codes are written once, in `GovernanceError::code`.

use councilflow_governance::{DefinitionError, GovernanceError};
use councilflow_ledger::LedgerError;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Definition(#[from] DefinitionError),
    #[error("the ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("recording the organisation from the seeds: {0}")]
    Seeds(ServiceError),
}

/// A refused or failed request.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ServiceError {
    /// No valid credentials (`UNAUTHENTICATED`).
    #[error("{0}")]
    Unauthenticated(String),
    /// Refused, nothing recorded: by the governance engine, or by the service for what it checks
    /// itself (an idempotency key too long, a reader writing, a write that kept losing races).
    #[error("{0}")]
    Refused(GovernanceError),
    /// The server cannot complete a write for now (`UNAVAILABLE`); the message says which case:
    /// its disk is full (nothing was recorded; the same request succeeds once space is freed),
    /// or the write was recorded but the projections have not shown it within the bound (it must
    /// not be sent again without its idempotency key).
    #[error("{0}")]
    Unavailable(String),
    /// Logged with its cause where it happens; the client sees only an opaque message
    /// (`INTERNAL`).
    #[error("internal error")]
    Internal,
}

impl ServiceError {
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Unauthenticated(_) => "UNAUTHENTICATED",
            ServiceError::Refused(refusal) => refusal.code(),
            ServiceError::Unavailable(_) => "UNAVAILABLE",
            ServiceError::Internal => "INTERNAL",
        }
    }
}

impl From<GovernanceError> for ServiceError {
    fn from(e: GovernanceError) -> Self {
        ServiceError::Refused(e)
    }
}

impl From<LedgerError> for ServiceError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Invalid(message) => GovernanceError::BadInput(message).into(),
            LedgerError::Conflict { .. } => GovernanceError::Conflict(
                "someone else changed this at the same moment; read it again and retry".into(),
            )
            .into(),
            LedgerError::NoSpace(cause) => {
                tracing::error!(%cause, "a write was refused: the data folder's disk is full");
                ServiceError::Unavailable(
                    "councilflow cannot record anything just now: the disk that holds its records \
                     is full. Nothing was recorded, and reading works as usual. Once the server's \
                     operator has freed space, send the same request again (with the same \
                     idempotencyKey, if you gave one)."
                        .into(),
                )
            }
            other => {
                tracing::error!(error = %other, "ledger failure");
                ServiceError::Internal
            }
        }
    }
}
