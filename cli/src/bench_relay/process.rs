//! The `pollen relay` child process: started on loopback, read from
//! `/proc`, stopped on drop; and the open-file limit it inherits.

use super::{RELAY_START_TIMEOUT, RELAY_STOP_TIMEOUT, err};
use crate::CliError;
use pollen_runtime::relay::RelayAddress;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The relay child; SIGTERM on drop, so no error path leaves it running.
pub(super) struct RelayProcess {
    child: Child,
    /// Holds the store directory (unless `--store` was given) and the log;
    /// fields drop after `Drop::drop`, so it is removed once the relay stopped.
    scratch: tempfile::TempDir,
}

impl RelayProcess {
    /// Starts `pollen relay` on a free loopback port and reads its address.
    pub(super) fn start(
        store: Option<&str>,
        extra: &[String],
    ) -> Result<(RelayProcess, RelayAddress), CliError> {
        let scratch = tempfile::tempdir().map_err(err)?;
        let store_arg = match store {
            Some(s) => s.to_owned(),
            None => scratch.path().join("store").to_string_lossy().into_owned(),
        };
        let log = std::fs::File::create(scratch.path().join("relay.log")).map_err(err)?;
        let exe = std::env::current_exe().map_err(err)?;
        let mut child = Command::new(exe)
            .args(["relay", "--listen", "127.0.0.1:0", "--store", &store_arg])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| CliError::Other(format!("cannot start pollen relay: {e}")))?;
        let stdout = child.stdout.take();
        let relay = RelayProcess { child, scratch };
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(out) = stdout {
            std::thread::spawn(move || {
                let mut out = BufReader::new(out);
                let mut line = String::new();
                let _ = tx.send(out.read_line(&mut line).map(|_| line));
                // Keep reading: a relay writing to a closed pipe would die of SIGPIPE.
                let _ = std::io::copy(&mut out, &mut std::io::sink());
            });
        }
        let line = match rx.recv_timeout(RELAY_START_TIMEOUT) {
            Ok(Ok(line)) if !line.trim().is_empty() => line,
            Ok(Ok(_)) | Err(_) => {
                return Err(CliError::Other(format!(
                    "pollen relay printed no address{}",
                    relay.log_tail()
                )));
            }
            Ok(Err(e)) => return Err(err(e)),
        };
        let addr: RelayAddress = line
            .trim()
            .parse()
            .map_err(|e| CliError::Other(format!("pollen relay printed {:?}: {e}", line.trim())))?;
        Ok((relay, addr))
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of the relay's log when it has exited, to explain a failure.
    pub(super) fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(self.scratch.path().join("relay.log")) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n  ");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; relay log:\n  {tail}")
        }
    }

    /// Adds the relay's exit status and log to `e` if the relay died.
    pub(super) fn explain(&mut self, e: CliError) -> CliError {
        match self.child.try_wait() {
            Ok(Some(status)) => CliError::Other(format!(
                "{e} (pollen relay exited: {status}{})",
                self.log_tail()
            )),
            _ => e,
        }
    }

    /// SIGTERM, then waits (killing it if it hangs); None if it could not be reaped.
    pub(super) fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child's pid, which cannot have been
            // reused: the child is not reaped until wait below.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + RELAY_STOP_TIMEOUT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    return self.child.wait().ok();
                }
                Err(_) => return None,
            }
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A field of `/proc/PID/status` in KiB (Linux).
pub(super) fn proc_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub(super) fn rss_kib(pid: u32) -> Result<u64, CliError> {
    proc_kib(pid, "VmRSS:")
        .ok_or_else(|| CliError::Other(format!("cannot read VmRSS of the relay (pid {pid})")))
}

/// Raises this process's soft open-file limit to `want` if it is lower (the
/// relay child inherits it); a note when the hard limit stops it short.
pub(super) fn raise_nofile(want: usize) -> Option<String> {
    let want = want as libc::rlim_t;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and pass by pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Some(format!(
            "cannot read the open-file limit: {}",
            std::io::Error::last_os_error()
        ));
    }
    if lim.rlim_cur >= want {
        return None;
    }
    let target = want.min(lim.rlim_max);
    let raised = libc::rlimit {
        rlim_cur: target,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we own; lowering nothing, raising the
    // soft limit at most to the hard one, which any process may do.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Some(format!(
            "cannot raise the open-file limit from {} to {want}: {}; sessions may fail to connect",
            lim.rlim_cur,
            std::io::Error::last_os_error()
        ));
    }
    (target < want).then(|| {
        format!(
            "open-file limit raised only to the hard limit {target} (wanted {want}); sessions may fail to connect"
        )
    })
}
