//! Driving the `coldstart` binary: bounded runs (a hang fails the test with the command line, it
//! never hangs the suite), `serve` processes, raw HTTP over a socket.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a command that must fail fast may run before the test calls it a hang.
pub const HANG: Duration = Duration::from_secs(20);

/// A `coldstart` command in `dir` with quiet logs.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coldstart"));
    command
        .current_dir(dir)
        .args(args)
        .env("COLDSTART_LOG", "error");
    command
}

/// Runs `coldstart ARGS` in `dir`; panics (after killing it) if it is still running after
/// `limit`.
pub fn run_within(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut command = command(dir, args);
    output_within(
        &mut command,
        limit,
        &format!("coldstart {}", args.join(" ")),
    )
}

/// Runs `command` to completion within `limit`, collecting its output.
pub fn output_within(command: &mut Command, limit: Duration, what: &str) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let status = wait_within(&mut child, limit, what);
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Waits for `child` for at most `limit`; kills it and panics on a hang.
pub fn wait_within(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The process exited with `code` (not by a signal) and said `needle` on stderr.
pub fn assert_exit(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected exit code {code} (never a signal); stderr: {err}"
    );
    assert!(
        err.contains(needle),
        "stderr should mention {needle:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// Sends `signal` (a name such as `TERM`) to process `pid` with kill(1).
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Whether a process with this id still exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .map(|(_, rest)| !rest.starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Pids of `coldstart build` processes running in directory `cwd`.
pub fn build_processes(cwd: &Path) -> Vec<u32> {
    let cwd = cwd.canonicalize().unwrap();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let here = std::fs::read_link(entry.path().join("cwd")).ok();
        if cmdline.contains(" build ") && here.as_deref() == Some(cwd.as_path()) && alive(pid) {
            pids.push(pid);
        }
    }
    pids
}

/// The `host:port` a `coldstart serve` child (stdout piped) prints on its first line; kills it
/// and fails when no such line comes within [`HANG`].
pub fn served_address(child: &mut Child, what: &str) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(HANG) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            panic!("`{what}` did not start within {HANG:?}");
        }
    };
    assert!(line.contains("http://"), "{what} did not start: {line:?}");
    line.trim().rsplit("http://").next().unwrap().to_string()
}

/// A running `coldstart serve`.
pub struct ServeProcess {
    /// The process.
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
}

impl ServeProcess {
    /// Starts `coldstart serve BUNDLE --port 0 ARGS...` in `dir` and waits for its address. The
    /// store is `dir/store` unless `args` name one.
    pub fn start(dir: &Path, bundle: &str, args: &[&str]) -> ServeProcess {
        let mut all = vec!["serve", bundle, "--port", "0"];
        if !args.contains(&"--store") {
            all.extend_from_slice(&["--store", "store"]);
        }
        all.extend_from_slice(args);
        let mut child = command(dir, &all)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = served_address(&mut child, &format!("coldstart serve {bundle}"));
        let server = ServeProcess { child, addr };
        server.wait_healthy();
        server
    }

    /// Waits until `/_coldstart/health` answers 200.
    pub fn wait_healthy(&self) {
        let started = Instant::now();
        while http_get(&self.addr, "/_coldstart/health")
            .map(|r| r.0)
            .unwrap_or(0)
            != 200
        {
            assert!(started.elapsed() < HANG, "server never became healthy");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` (raw bytes) on a new connection and reads the whole response:
/// (status, body). The server must close the connection (send `Connection: close`).
pub fn http_raw(addr: &str, request: &[u8]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    stream.write_all(request)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// `GET path` with `Connection: close`: (status, body).
pub fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    http_raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// `POST path` with an empty body and `Connection: close`: (status, body).
pub fn http_post(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    http_raw(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}
