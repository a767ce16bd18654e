//! Writing files so that a power cut leaves either the old content or the new, never neither.
//!
//! A file's data is on stable storage only after `fsync`/`fdatasync` on it, and its *name* only
//! after `fsync` on the directory that holds it: a file created, renamed or removed is not
//! durable until its directory is synced. A killed process cannot show this (the kernel keeps
//! every page it wrote); a power cut, a reset VM or LazyFS's `clear-cache` can. Every file
//! councilflow keeps beside the ledger goes through one of these:
//!
//! - [`replace_file`]: a temporary file, written, synced, renamed over the old one, and the
//!   folder synced (the people list, the projection snapshot);
//! - [`append_line`]: one line appended with `O_APPEND` and synced (the token file), starting on
//!   a fresh line if a power cut left the last one torn;
//! - [`create_dir_all`]: folders created with their entries in their parents made durable.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// `fsync` on a directory: the names created, renamed or removed in it become durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `dir` and any missing parents, then syncs each new folder and the folder that holds
/// it, so that none of the new names can vanish in a power cut.
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(path) = at {
        if path.as_os_str().is_empty() || path.exists() {
            break;
        }
        missing.push(path);
        at = path.parent();
    }
    if missing.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    for path in missing.iter() {
        sync_dir(path)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        } else {
            sync_dir(Path::new("."))?;
        }
    }
    Ok(())
}

/// Replaces `path` with what `write` produces: into `.<name>.tmp` beside it, `fdatasync`,
/// rename over `path`, sync the folder. A power cut at any point leaves the old file or the new.
pub fn replace_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = parent(path);
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} names no file", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let mut out = BufWriter::new(File::create(&tmp)?);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_data()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Appends `line` (without its newline) to `path` as one `write` with `O_APPEND`, then
/// `fdatasync`; creates the file with `mode` and syncs its folder the first time. Two processes
/// may append to the same file: a line shorter than a page is written whole.
///
/// If the file does not end with a newline (a power cut tore the last line before its sync, so
/// that line was never acknowledged), the new line starts with one, so it is not glued to the
/// torn fragment and lost with it; readers skip the fragment and any empty line.
pub fn append_line(path: &Path, line: &str, mode: u32) -> std::io::Result<()> {
    let created = !path.exists();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(mode)
        .open(path)?;
    let len = file.metadata()?.len();
    let mut last = [b'\n'];
    if len > 0 {
        file.read_exact_at(&mut last, len - 1)?;
    }
    let mut text = String::with_capacity(line.len() + 2);
    if last[0] != b'\n' {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    (&file).write_all(text.as_bytes())?;
    file.sync_data()?;
    if created {
        sync_dir(parent(path))?;
    }
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_holds_the_new_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.tsv");
        std::fs::write(&path, "old").unwrap();
        replace_file(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.tsv");
        std::fs::write(&path, "old").unwrap();
        let failed = replace_file(&path, |_| Err(std::io::Error::other("disk on fire")));
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }

    #[test]
    fn a_line_appended_after_a_torn_one_starts_on_a_line_of_its_own() {
        // Given a file whose last line a power cut tore before its sync,
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.jsonl");
        std::fs::write(&path, "{\"op\":\"issue\"}\n{\"op\":\"iss").unwrap();
        // when a line is appended, then it is whole on its own line.
        append_line(&path, "{\"op\":\"revoke\"}", 0o600).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            ["{\"op\":\"issue\"}", "{\"op\":\"iss", "{\"op\":\"revoke\"}"]
        );
        append_line(&path, "{\"op\":\"issue\"}", 0o600).unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .ends_with("\"revoke\"}\n{\"op\":\"issue\"}\n"));
    }

    #[test]
    fn new_folders_are_created_with_their_parents() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        create_dir_all(&deep).unwrap();
        assert!(deep.is_dir());
        create_dir_all(&deep).unwrap();
    }
}
