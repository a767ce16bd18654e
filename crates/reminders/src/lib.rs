//! Deadline reminders: which reminders are due (`schedule`, a pure function of plan state and
//! time), the events that record them in the ledger (`log`), the email itself (`message`) and
//! sending it (`mailer`, lettre over SMTP or to `.eml` files).

pub mod log;
pub mod mailer;
pub mod message;
pub mod schedule;

pub use log::{Record, ReminderLog, Status};
pub use mailer::{Mailer, SendError};
pub use schedule::{due_now, plan_schedule, shared_schedule, Offset, Planned, Subject};
