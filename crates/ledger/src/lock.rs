//! One process per data folder, on any file system.
//!
//! sled locks its own `db` file, but that lock is only as good as the file system's: on a FUSE
//! file system such as LazyFS (and on some network file systems) `flock` is not enforced across
//! processes, and a `councilflow people` once opened the ledger while a server was writing to it.
//! So the ledger holds a lock of its own, made of two parts, before it opens anything:
//!
//! - an `flock` on `councilflow.lock` in the data folder, which also keeps out a process on
//!   another host where the file system carries locks between hosts (NFSv4, SMB);
//! - a Linux abstract Unix socket named after the folder's device and inode, which no file
//!   system can ignore: binding it fails while another process on this host holds the name, and
//!   the kernel releases it when the process dies, so a crash never leaves a stale lock behind.
//!
//! Both are taken, every time: the first protects across hosts where it can, the second on this
//! host always. A folder whose `flock` is not enforced is still protected on this host; two hosts
//! sharing such a file system cannot be told apart by any lock, which the operator's guide says.

use std::fs::{File, OpenOptions};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::Path;
use std::time::Duration;

use crate::error::LedgerError;

/// The lock file's name in the data folder.
pub const LOCK_FILE: &str = "councilflow.lock";

/// How long [`DataLock::acquire`] waits for a lock that another handle in this same process is
/// letting go of (a tool or test that reopens a folder it just closed): 50 tries, 20 ms apart.
const RETRIES: usize = 50;
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// Held for as long as a process uses the data folder; dropping it releases both parts.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
    _socket: UnixListener,
}

impl DataLock {
    /// Takes the folder's lock, waiting up to a second, or fails with [`LedgerError::InUse`].
    /// The folder must exist.
    pub fn acquire(dir: &Path) -> Result<DataLock, LedgerError> {
        let mut attempt = 0;
        loop {
            match Self::try_acquire(dir)? {
                Some(lock) => return Ok(lock),
                None if attempt < RETRIES => {
                    attempt += 1;
                    std::thread::sleep(RETRY_PAUSE);
                }
                None => return Err(LedgerError::InUse(dir.display().to_string())),
            }
        }
    }

    /// Both parts, or `None` when another process holds either.
    fn try_acquire(dir: &Path) -> Result<Option<DataLock>, LedgerError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
            // A file system without flock at all: the socket below still guards this host.
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::NOTSUP) => {}
            Err(e) => return Err(std::io::Error::from(e).into()),
        }
        let meta = std::fs::metadata(dir)?;
        let name = format!("councilflow-data-{:x}-{:x}", meta.dev(), meta.ino());
        let address = SocketAddr::from_abstract_name(name.as_bytes())?;
        match UnixListener::bind_addr(&address) {
            Ok(socket) => Ok(Some(DataLock {
                _file: file,
                _socket: socket,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataLock::acquire(dir.path()).unwrap();
        // Not even this process may take it twice: the socket name is per host.
        assert!(matches!(DataLock::try_acquire(dir.path()), Ok(None)));
        drop(first);
        assert!(DataLock::try_acquire(dir.path()).unwrap().is_some());
    }

    #[test]
    fn the_socket_alone_keeps_a_second_holder_out_where_flock_is_not_enforced() {
        // Given a folder whose lock file another holder's flock does not cover (as on LazyFS),
        let dir = tempfile::tempdir().unwrap();
        let held = DataLock::acquire(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join(LOCK_FILE)).unwrap();
        // when a second process tries, the new lock file's flock succeeds but the socket is
        // taken, so the lock is refused.
        assert!(matches!(DataLock::try_acquire(dir.path()), Ok(None)));
        drop(held);
    }
}
