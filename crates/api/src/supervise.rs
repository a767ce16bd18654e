//! Background tasks that must not die quietly. A task that panics would otherwise vanish: the
//! projector with it (and every write would wait for projections that never come), or the
//! reminder task (and no one would be reminded). A supervised task is restarted after a panic,
//! with its cause logged, waiting a little longer each time it fails again soon (from 100 ms up
//! to 30 s), so a fault that repeats does not spin.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The first wait before a restart, and the longest.
const FIRST_WAIT: Duration = Duration::from_millis(100);
const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// A task that ran this long before failing starts again from the first wait.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// What a panic said, for the log.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Runs `start()` as a task, and again whenever it panics. The returned handle ends when a run
/// ends without panicking (the task's own way of stopping) or is cancelled.
pub fn spawn<F, Fut>(name: &'static str, mut start: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut wait = FIRST_WAIT;
        loop {
            let started = Instant::now();
            match tokio::spawn(start()).await {
                Ok(()) => return,
                Err(e) if e.is_panic() => {
                    if started.elapsed() >= HEALTHY_RUN {
                        wait = FIRST_WAIT;
                    }
                    let cause = panic_message(e.into_panic().as_ref());
                    tracing::error!(
                        task = name,
                        %cause,
                        restart_in_ms = wait.as_millis() as u64,
                        "a background task panicked; restarting it"
                    );
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(LONGEST_WAIT);
                }
                // Cancelled: the runtime is shutting down.
                Err(_) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_task_that_panics_is_restarted_until_it_ends_by_itself() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let handle = spawn("test", move || {
            let runs = Arc::clone(&counted);
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("injected");
                }
            }
        });
        handle.await.unwrap();
        assert_eq!(
            runs.load(Ordering::SeqCst),
            3,
            "two panics, then a run that ended"
        );
    }
}
