//! Reading processes from a /proc tree: the live one, a mounted image's, or a saved
//! copy (where `exe` may be a plain file holding the link's target).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Clock ticks per second of /proc's times. Linux reports them in USER_HZ, which is
/// 100 on every architecture it supports, whatever the kernel's internal HZ.
const TICKS: f64 = 100.0;

/// One process, as far as it could be read (other users' processes hide some fields
/// from non-root readers).
#[derive(Debug, Clone, Default)]
pub(crate) struct Process {
    pub pid: u32,
    /// `comm`: the kernel's 15-character process name.
    pub name: String,
    /// Arguments (argv), possibly empty (kernel threads, zombies).
    pub args: Vec<String>,
    /// Target of `exe`, `None` when unreadable.
    pub exe: Option<String>,
    pub uid: Option<u32>,
    /// Seconds since boot at which it started.
    pub start_secs: f64,
    /// CPU seconds used (user + system).
    pub cpu_secs: f64,
    /// Socket inodes among its open files.
    pub sockets: Vec<u64>,
}

impl Process {
    /// Executable gone from disk while running.
    pub(crate) fn deleted(&self) -> bool {
        self.exe
            .as_deref()
            .is_some_and(|e| e.ends_with(" (deleted)"))
    }

    /// The executable's base name, without ` (deleted)`.
    pub(crate) fn exe_name(&self) -> Option<&str> {
        let exe = self.exe.as_deref()?;
        let exe = exe.strip_suffix(" (deleted)").unwrap_or(exe);
        exe.rsplit('/').next()
    }

    pub(crate) fn cmdline(&self) -> String {
        self.args.join(" ")
    }
}

/// The machine's clock facts: boot time and uptime.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    /// Boot time, seconds since the Unix epoch.
    pub boot: i64,
    /// Seconds since boot, when the tree was read.
    pub uptime: f64,
}

pub(crate) fn clock(proc_root: &Path) -> Clock {
    let boot = read_text(&proc_root.join("stat"), 1 << 20)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime ").map(|v| v.trim().parse().ok()))
                .flatten()
        })
        .unwrap_or(0);
    let uptime = read_text(&proc_root.join("uptime"), 4096)
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0);
    Clock { boot, uptime }
}

/// Every process directory under `proc_root`, read as far as permitted.
pub(crate) fn processes(proc_root: &Path) -> std::io::Result<Vec<Process>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(proc_root)?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may exit while we read it: whatever is gone is left empty.
        out.push(read_process(&entry.path(), pid));
    }
    out.sort_by_key(|p| p.pid);
    Ok(out)
}

fn read_process(dir: &Path, pid: u32) -> Process {
    let name = read_text(&dir.join("comm"), 4096)
        .map(|s| s.trim_end_matches('\n').to_string())
        .unwrap_or_default();
    let args = read_bounded(&dir.join("cmdline"), MAX_CMDLINE)
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let exe = link_target(&dir.join("exe"));
    let uid = read_text(&dir.join("status"), 64 << 10).ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    });
    let (start_secs, cpu_secs) = read_text(&dir.join("stat"), 8192)
        .ok()
        .and_then(|s| parse_stat(&s))
        .unwrap_or((0.0, 0.0));
    let sockets = std::fs::read_dir(dir.join("fd"))
        .map(|fds| {
            fds.flatten()
                .filter_map(|fd| link_target(&fd.path()))
                .filter_map(|t| socket_inode(&t))
                .collect()
        })
        .unwrap_or_default();
    Process {
        pid,
        name,
        args,
        exe,
        uid,
        start_secs,
        cpu_secs,
        sockets,
    }
}

/// A symlink's target; in a saved copy of /proc the link may be a file holding it.
fn link_target(path: &Path) -> Option<String> {
    match std::fs::read_link(path) {
        Ok(t) => Some(t.to_string_lossy().into_owned()),
        Err(_) => read_text(path, 4096)
            .ok()
            .map(|s| s.trim_end_matches('\n').to_string())
            .filter(|s| !s.is_empty() && s.len() < 4096),
    }
}

/// Longest command line kept: Linux caps arguments plus environment at a quarter of the
/// stack limit (2 MiB by default); more than this is not a real process.
const MAX_CMDLINE: u64 = 2 << 20;

/// At most `limit` bytes of a file. Everything under `/proc` or a root image is read
/// through this: in an image, `cmdline` can be a symlink to `/dev/zero`, and an
/// unbounded read took 7.7 GB in 30 s.
///
/// Only regular files are read (procfs files are regular files). The open does not
/// block, so a FIFO planted in an image, which would wait for a writer forever, and a
/// device are refused instead of read.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut out = Vec::new();
    file.take(limit).read_to_end(&mut out)?;
    Ok(out)
}

/// [`read_bounded`] as text (invalid UTF-8 replaced).
pub(crate) fn read_text(path: &Path, limit: u64) -> std::io::Result<String> {
    read_bounded(path, limit).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `socket:[12345]` -> 12345.
fn socket_inode(target: &str) -> Option<u64> {
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// (start time, CPU seconds) from `/proc/PID/stat`. The name field is in parentheses
/// and may itself hold spaces and parentheses, so fields are counted from the last `)`.
pub(crate) fn parse_stat(stat: &str) -> Option<(f64, f64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 of the man page, so field N is index N - 3.
    let ticks = |n: usize| -> Option<f64> { fields.get(n - 3)?.parse::<f64>().ok() };
    let utime = ticks(14)?;
    let stime = ticks(15)?;
    let start = ticks(22)?;
    Some((start / TICKS, (utime + stime) / TICKS))
}

/// uid -> login name, from `etc/passwd` under `root`.
pub(crate) fn users(root: &Path) -> HashMap<u32, String> {
    read_text(&root.join("etc/passwd"), 16 << 20)
        .map(|s| {
            s.lines()
                .filter_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?;
                    let uid = f.nth(1)?.parse().ok()?;
                    Some((uid, name.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The default /proc for a root: `/proc` for the running machine, `ROOT/proc` otherwise.
pub(crate) fn default_proc_root(root: &Path) -> PathBuf {
    if root == Path::new("/") {
        PathBuf::from("/proc")
    } else {
        root.join("proc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        let stat =
            "4242 (x (m) r) S 1 4242 4242 0 -1 4194560 250 0 0 0 12000 3000 0 0 20 0 3 0 50000 \
                    123456 789 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let (start, cpu) = parse_stat(stat).unwrap_or_default();
        assert_eq!(start, 500.0);
        assert_eq!(cpu, 150.0);
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("1 (short) S 1").is_none());
    }

    #[test]
    fn socket_links_give_inodes() {
        assert_eq!(socket_inode("socket:[98765]"), Some(98765));
        assert_eq!(socket_inode("pipe:[98765]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn deleted_executables_keep_their_name() {
        let p = Process {
            exe: Some("/tmp/.x/kdevtmpfsi (deleted)".into()),
            ..Process::default()
        };
        assert!(p.deleted());
        assert_eq!(p.exe_name(), Some("kdevtmpfsi"));
    }
}
