//! Deadline reminders: which reminders are due (a pure function of plan state and time) and the
//! mailer that sends them through lettre and records each one in the ledger. Filled by the reminders issue.
