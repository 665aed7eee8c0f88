//! Harness for scenarios that drive the real `pollen` binary: one data
//! directory per simulated phone, commands run as separate processes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

/// Path of the `pollen` binary next to the test executable, built on first use
/// if the test run did not build it.
pub fn pollen_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>/pollen
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable lives in target/<profile>/deps");
        let bin = profile_dir.join("pollen");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-q", "-p", "pollen-cli", "--bin", "pollen"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building the pollen binary failed");
        bin
    })
}

/// One simulated phone: a data directory and the binary.
pub struct Phone {
    /// Its data directory.
    pub dir: PathBuf,
    /// Its display name.
    pub name: String,
}

impl Phone {
    /// Creates an identity named `name` under `root`.
    pub fn new(root: &Path, name: &str) -> Phone {
        let p = Phone {
            dir: root.join(name.to_lowercase()),
            name: name.to_owned(),
        };
        p.ok(&["init", "--name", name]);
        p
    }

    /// Runs `pollen --data DIR args…`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(pollen_bin())
            .arg("--data")
            .arg(&self.dir)
            .args(args)
            .env_remove("POLLEN_DATA")
            .output()
            .expect("run pollen")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{} {:?} failed: {}{}",
            self.name,
            args,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail; returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "{} {:?} should have failed but printed {}",
            self.name,
            args,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs a `--json` command and parses its output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(&a);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{args:?} printed invalid JSON ({e}): {out}"))
    }

    /// This phone's contact card.
    pub fn card(&self) -> String {
        self.json(&["id"])["card"]
            .as_str()
            .expect("card")
            .to_owned()
    }

    /// Pins `other` as a contact under its own name.
    pub fn add(&self, other: &Phone) {
        self.ok(&["contact", "add", &other.card()]);
    }

    /// The inbox as JSON messages.
    pub fn inbox(&self) -> Vec<Value> {
        self.json(&["inbox", "--limit", "1000"])
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Texts in the inbox, oldest first.
    pub fn texts(&self) -> Vec<String> {
        self.inbox()
            .iter()
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect()
    }

    /// Exports a bundle to `file` and imports it into `to`; returns the import report.
    pub fn hand_to(&self, to: &Phone, file: &Path) -> Value {
        self.ok(&["bundle", "export", file.to_str().expect("utf-8 path")]);
        to.json(&["bundle", "import", file.to_str().expect("utf-8 path")])
    }

    /// Every byte of this phone's database files (db, WAL).
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for f in ["pollen.db", "pollen.db-wal"] {
            if let Ok(b) = std::fs::read(self.dir.join(f)) {
                all.extend(b);
            }
        }
        all
    }
}

/// True when `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Polls `check` every 50 ms until it holds; panics after `timeout`.
/// Returns how long it took.
pub fn wait_for(
    what: &str,
    timeout: std::time::Duration,
    mut check: impl FnMut() -> bool,
) -> std::time::Duration {
    let start = std::time::Instant::now();
    while start.elapsed() < timeout {
        if check() {
            return start.elapsed();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// A `pollen serve` process on loopback, stopped (SIGTERM) when dropped.
pub struct Server {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// The address it listens on.
    pub addr: String,
}

impl Server {
    /// Starts `pollen serve --listen 127.0.0.1:0 --json` for `phone` and
    /// waits for the address it prints on its first line.
    pub fn start(phone: &Phone) -> Server {
        Server::start_with(phone, &["serve", "--listen", "127.0.0.1:0", "--json"])
    }

    /// Starts `pollen --data DIR args…` (a command that prints its address
    /// first, like `serve` or `run`).
    pub fn start_with(phone: &Phone, args: &[&str]) -> Server {
        use std::io::BufRead;
        let mut child = Command::new(pollen_bin())
            .arg("--data")
            .arg(&phone.dir)
            .args(args)
            .env_remove("POLLEN_DATA")
            // Sessions a test provokes on purpose would flood its output.
            .env(
                "POLLEN_LOG",
                std::env::var("POLLEN_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start pollen serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let addr = lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("serve prints its address on the first line");
        Server { child, lines, addr }
    }

    /// The next per-session JSON line, waiting up to 30 s.
    pub fn next_session(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("serve reports the session");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON {line:?}: {e}"))
    }

    /// Resident memory of the server process in KiB (Linux).
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Freezes the server (SIGSTOP): connections are accepted by the kernel
    /// but nothing answers, so a session with it is caught mid-way.
    pub fn freeze(&self) {
        let _ = Command::new("kill")
            .args(["-STOP", &self.child.id().to_string()])
            .status();
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate()
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        // SIGTERM lets it close cleanly; kill is the fallback.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().expect("wait for pollen serve")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// A throwaway PostgreSQL server, stopped and removed on drop.
pub struct Pg {
    /// Connection URL (database `pollen`).
    pub url: String,
    /// The cluster's directory.
    pub dir: PathBuf,
}

fn pg_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pg").join(name)
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Pg {
    /// Starts a server. Panics when not root: the tests that call this are
    /// `#[ignore]`d, so they run only when asked for (`scripts/test.sh` as
    /// root), and then a missing server must fail them, not pass them.
    pub fn start() -> Pg {
        assert!(
            is_root(),
            "the PostgreSQL relay tests need root (to install and run a throwaway server); \
             run them as root with `cargo test -p pollen-tests -- --ignored`"
        );
        let started = Instant::now();
        let out = Command::new("bash")
            .arg(pg_script("start_postgres.sh"))
            .env("POLLEN_PG_OWNER_PID", std::process::id().to_string())
            .output()
            .expect("run bash");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "running as root, but start_postgres.sh failed ({}):\n{stderr}",
            out.status
        );
        let mut lines = stdout.lines();
        let (Some(url), Some(dir)) = (lines.next(), lines.next()) else {
            panic!("start_postgres.sh printed {stdout:?}, not a URL and a directory");
        };
        println!(
            "PostgreSQL started in {:?}: {}",
            started.elapsed(),
            stderr.trim()
        );
        Pg {
            url: url.to_owned(),
            dir: PathBuf::from(dir),
        }
    }

    /// A client for inspecting the database.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect for inspection")
    }

    /// A URL for another database on the same server, created empty.
    pub fn fresh_database(&self, name: &str) -> String {
        self.client()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        self.url.replace("/pollen", &format!("/{name}"))
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let out = Command::new("bash")
            .arg(pg_script("stop_postgres.sh"))
            .arg(&self.dir)
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "stop_postgres.sh failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("cannot run stop_postgres.sh: {e}"),
        }
    }
}

/// A TCP link that breaks: one connection forwarded to `target` until the
/// client has sent `cut_after` bytes, then both sides are closed, as when a
/// neighbour walks out of range in the middle of a transfer.
pub struct CutLink {
    /// The address to connect to instead of `target`.
    pub addr: String,
    forwarded: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CutLink {
    /// Listens on a free loopback port for one connection to `target`.
    pub fn start(target: &str, cut_after: u64) -> CutLink {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the link");
        let addr = listener.local_addr().unwrap().to_string();
        let forwarded = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = forwarded.clone();
        let target = target.to_owned();
        std::thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let Ok(server) = TcpStream::connect(&target) else {
                return;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) =
                (server.try_clone().unwrap(), client.try_clone().unwrap());
            // Replies flow back until the cut closes the sockets.
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = s_read.read(&mut buf) {
                    if n == 0 || c_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
            let mut buf = [0u8; 16 * 1024];
            let mut sent = 0u64;
            while sent < cut_after {
                let want = buf.len().min((cut_after - sent) as usize);
                match c_read.read(&mut buf[..want]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        sent += n as u64;
                        counted.store(sent, Ordering::Relaxed);
                    }
                }
            }
            // Let what crossed reach the server before the link goes.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        });
        CutLink { addr, forwarded }
    }

    /// Bytes the client got across so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(std::sync::atomic::Ordering::Relaxed)
    }
}
