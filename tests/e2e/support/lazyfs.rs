//! Power cuts with LazyFS (`../shared/tools/lazyfs/`): a FUSE file system whose own page cache
//! keeps everything not yet `fsync`ed, so throwing that cache away is exactly what a power cut
//! does to a disk. `run build` builds it (scripts/test does so before the tests); this harness
//! mounts it itself, as `run mount` does, but with the fault notifier FIFO on, so that it knows
//! when a `clear-cache` has finished.
//!
//! A power cut ([`LazyFs::power_cut`]) stops the server (SIGSTOP: it can neither write nor
//! answer any more), throws the cache away, waits for LazyFS to say it is done, then kills the
//! server (SIGKILL). A crash fault ([`LazyFs::crash_at`]) makes LazyFS kill itself at one exact
//! operation (say, before the `fsync` of sled's file in a checkpoint), which loses its cache the
//! same way; [`LazyFs::remount`] then mounts the same folder again.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The LazyFS helper script, from `COUNCILFLOW_LAZYFS` or beside the repository.
fn run_script() -> PathBuf {
    std::env::var_os("COUNCILFLOW_LAZYFS")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::repo_path("../shared/tools/lazyfs/run"))
}

/// Why LazyFS cannot run here, if it cannot: the tool is missing, or this is not root, or there
/// is no `/dev/fuse`. scripts/test (and so CI) has all three.
pub fn unavailable() -> Option<String> {
    if !run_script().exists() {
        return Some(format!(
            "no LazyFS helper at {} (set COUNCILFLOW_LAZYFS)",
            run_script().display()
        ));
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("no /dev/fuse".into());
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("LazyFS needs root".into());
    }
    None
}

/// A LazyFS mount over a folder of its own; unmounted when dropped.
pub struct LazyFs {
    /// Where the files really are (what a disk holds after the power comes back).
    root: tempfile::TempDir,
    /// The mount point, where the server's data folder goes.
    pub mount: PathBuf,
    faults: PathBuf,
    completed: PathBuf,
    config: PathBuf,
    process: Option<Child>,
    /// The command FIFO, held open so that LazyFS's reader never sees its end.
    commands: Option<std::fs::File>,
    notices: Option<BufReader<std::fs::File>>,
}

impl LazyFs {
    /// Builds LazyFS if needed and mounts it over a new empty folder.
    pub fn mount() -> LazyFs {
        let out = Command::new(run_script())
            .arg("build")
            .output()
            .expect("run the LazyFS helper");
        assert!(
            out.status.success(),
            "building LazyFS failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let binary = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        // No "-o" anywhere in the config file's path: LazyFS takes an argument that contains
        // it (in any case) for a FUSE option and falls back on its default config.
        let root = tempfile::Builder::new()
            .prefix("councilflowdisk")
            .tempdir()
            .expect("a folder for the disk");
        let work = root.path().with_extension("lazyfs");
        std::fs::create_dir_all(&work).unwrap();
        let (mount, faults, completed, config) = (
            work.join("mnt"),
            work.join("faults.fifo"),
            work.join("completed.fifo"),
            work.join("config.toml"),
        );
        std::fs::create_dir_all(&mount).unwrap();
        assert!(
            !config.to_string_lossy().to_lowercase().contains("-o"),
            "LazyFS would not read its config at {} (the path holds \"-o\")",
            config.display()
        );
        std::fs::write(
            &config,
            format!(
                "[faults]\nfifo_path=\"{}\"\nfifo_path_completed=\"{}\"\n[cache]\napply_eviction=false\n\
                 [cache.simple]\ncustom_size=\"4gb\"\nblocks_per_page=1\n[filesystem]\n\
                 log_all_operations=false\nlogfile=\"\"\n",
                faults.display(),
                completed.display()
            ),
        )
        .unwrap();
        std::fs::write(work.join("binary"), binary).unwrap();
        let mut fs = LazyFs {
            root,
            mount,
            faults,
            completed,
            config,
            process: None,
            commands: None,
            notices: None,
        };
        fs.start();
        fs
    }

    fn start(&mut self) {
        let work = self.mount.parent().unwrap().to_owned();
        let binary = std::fs::read_to_string(work.join("binary")).unwrap();
        let _ = std::fs::remove_file(&self.faults);
        let _ = std::fs::remove_file(&self.completed);
        let log = std::fs::File::create(work.join("lazyfs.log")).unwrap();
        let process = Command::new(binary)
            .arg(&self.mount)
            .arg("--config-path")
            .arg(&self.config)
            .args(["-o", "allow_other", "-o", "modules=subdir", "-o"])
            .arg(format!("subdir={}", self.root.path().display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start LazyFS");
        self.process = Some(process);
        let deadline = Instant::now() + Duration::from_secs(30);
        let wanted = format!(" {} fuse.lazyfs ", self.mount.display());
        loop {
            let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
            if mounts.contains(&wanted) && self.faults.exists() && self.completed.exists() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "LazyFS did not mount within 30 s; its log:\n{}",
                std::fs::read_to_string(work.join("lazyfs.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Read and write ends opened at once (Linux lets a FIFO be opened read-write without
        // blocking), so neither side waits for the other to open.
        let open = |path: &Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .expect("open a LazyFS FIFO")
        };
        self.commands = Some(open(&self.faults));
        self.notices = Some(BufReader::new(open(&self.completed)));
    }

    fn command(&mut self, text: &str) {
        let commands = self.commands.as_mut().expect("LazyFS is mounted");
        commands
            .write_all(format!("{text}\n").as_bytes())
            .expect("send LazyFS a command");
    }

    /// Throws away everything not yet synced, and waits until LazyFS has.
    pub fn clear_cache(&mut self) {
        self.command("lazyfs::clear-cache");
        let mut line = String::new();
        self.notices
            .as_mut()
            .unwrap()
            .read_line(&mut line)
            .expect("LazyFS's notice");
        assert!(line.contains("clear-cache"), "LazyFS said {line:?}");
    }

    /// A power cut under the process `pid`: it is stopped first, so nothing it does after the
    /// cut can reach the disk or a client, then the unsynced data is thrown away, then it dies.
    pub fn power_cut(&mut self, pid: u32) {
        signal(pid, "STOP");
        self.clear_cache();
        signal(pid, "KILL");
    }

    /// Makes LazyFS kill itself, losing its cache, at the next `op` (`fsync`, `write`, ...) on a
    /// path matching `path` (a regex), `timing` `before` or `after` it.
    pub fn crash_at(&mut self, timing: &str, op: &str, path: &str) {
        self.command(&format!(
            "lazyfs::crash::timing={timing}::op={op}::from_rgx={path}"
        ));
    }

    /// Whether LazyFS is still running (a crash fault stops it).
    pub fn alive(&mut self) -> bool {
        self.process
            .as_mut()
            .is_some_and(|p| p.try_wait().ok().flatten().is_none())
    }

    /// After a crash fault: unmounts the dead mount and mounts the same folder again.
    pub fn remount(&mut self) {
        self.unmount();
        self.start();
    }

    fn unmount(&mut self) {
        self.commands = None;
        self.notices = None;
        let _ = Command::new("fusermount3")
            .arg("-uz")
            .arg(&self.mount)
            .status();
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Where the mounted folder's files really are.
    pub fn disk(&self) -> &Path {
        self.root.path()
    }
}

impl Drop for LazyFs {
    fn drop(&mut self) {
        self.unmount();
        let _ = std::fs::remove_dir_all(self.mount.parent().unwrap());
    }
}

/// Sends `kill -SIGNAL pid`.
pub fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status();
}
