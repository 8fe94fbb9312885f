//! What a production deploy of `coldstart serve` needs, through the binary and real HTTP:
//! client assets (`--static`: content types, Last-Modified/304, Range, precompressed siblings,
//! immutable caching of hashed names, no path escapes), response compression, `PORT`/`HOST`,
//! request ids and access logs, and a read-only snapshot store with a writable `--state-dir`.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::bin::{command, run_within, served_address, ServeProcess, HANG};
use crate::common::SMALL_APP;

/// A chunked body, decoded.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16)
                .expect("a hex chunk size");
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// One request on a new connection: (head, body bytes, de-chunked).
fn exchange(addr: &str, request: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let body = &response[split + 4..];
    let chunked =
        header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    (
        head,
        if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        },
    )
}

fn get(addr: &str, path: &str, extra: &str) -> (String, Vec<u8>) {
    exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\n{extra}Connection: close\r\n\r\n"),
    )
}

/// The value of header `name` (case-insensitive) in a response head.
fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn status(head: &str) -> u16 {
    head.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn app(dir: &Path) {
    std::fs::write(dir.join("app.js"), SMALL_APP).unwrap();
    let public = dir.join("public");
    std::fs::create_dir_all(public.join("nested")).unwrap();
    std::fs::write(
        public.join("app.Dc6LPmib.js"),
        "console.log('hashed asset');\n".repeat(20),
    )
    .unwrap();
    std::fs::write(public.join("app.Dc6LPmib.js.br"), b"\x1b\x00brotli-bytes").unwrap();
    std::fs::write(public.join("style.css"), "body { color: red }\n").unwrap();
    std::fs::write(public.join("nested/data.json"), "{\"n\":1}").unwrap();
    std::fs::write(dir.join("secret.txt"), "not public").unwrap();
}

#[test]
fn static_assets_are_served_with_caching_ranges_and_precompression() {
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let server = ServeProcess::start(dir.path(), "app.js", &["--static", "/assets=public"]);
    let addr = &server.addr;

    let (head, body) = get(addr, "/assets/app.Dc6LPmib.js", "");
    assert_eq!(status(&head), 200, "{head}");
    assert_eq!(
        header(&head, "content-type"),
        Some("text/javascript"),
        "{head}"
    );
    assert_eq!(
        header(&head, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(body, "console.log('hashed asset');\n".repeat(20).as_bytes());
    let modified = header(&head, "last-modified")
        .expect("last-modified")
        .to_string();

    // Revalidation: unchanged since → 304 with no body.
    let (head, body) = get(
        addr,
        "/assets/app.Dc6LPmib.js",
        &format!("If-Modified-Since: {modified}\r\n"),
    );
    assert_eq!(status(&head), 304, "{head}");
    assert!(body.is_empty());

    // Range.
    let (head, body) = get(addr, "/assets/app.Dc6LPmib.js", "Range: bytes=0-10\r\n");
    assert_eq!(status(&head), 206, "{head}");
    assert_eq!(body, b"console.log");
    assert!(header(&head, "content-range")
        .unwrap()
        .starts_with("bytes 0-10/"));

    // A precompressed sibling for a client that accepts it.
    let (head, body) = get(addr, "/assets/app.Dc6LPmib.js", "Accept-Encoding: br\r\n");
    assert_eq!(header(&head, "content-encoding"), Some("br"), "{head}");
    assert_eq!(body, b"\x1b\x00brotli-bytes");

    // Unhashed names are revalidated; nested folders work.
    let (head, _) = get(addr, "/assets/style.css", "");
    assert_eq!(
        header(&head, "cache-control"),
        Some("public, max-age=0, must-revalidate")
    );
    assert_eq!(header(&head, "content-type"), Some("text/css"));
    let (head, body) = get(addr, "/assets/nested/data.json", "");
    assert_eq!(status(&head), 200);
    assert_eq!(body, b"{\"n\":1}");

    // No way out of the folder; a missing asset falls through to the app (which renders any route).
    for escape in [
        "/assets/../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/..%2fsecret.txt",
    ] {
        let (head, body) = get(addr, escape, "");
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("not public"),
            "{escape} leaked a file outside the folder"
        );
        // ServeDir refuses the path; the app then answers it as one of its routes.
        assert!(
            status(&head) != 200 || body.contains("<main>"),
            "{escape}: {head}"
        );
    }
    let (head, body) = get(addr, "/assets/missing.js", "");
    assert_eq!(
        header(&head, "cache-control"),
        None,
        "not a static answer: {head}"
    );
    assert!(String::from_utf8_lossy(&body).contains("<main>/assets/missing.js:"));
    // Pages still come from the bundle.
    let (head, body) = get(addr, "/", "");
    assert_eq!(status(&head), 200);
    assert!(String::from_utf8_lossy(&body).contains("<main>/:"));
}

#[test]
fn html_is_compressed_when_the_client_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    std::fs::write(
        dir.path().join("app.js"),
        SMALL_APP.replace(
            "\"<main>\" + route",
            "\"<main>\" + \"padding \".repeat(100) + route",
        ),
    )
    .unwrap();
    let server = ServeProcess::start(dir.path(), "app.js", &[]);
    let (plain_head, plain) = get(&server.addr, "/", "");
    assert_eq!(status(&plain_head), 200);
    assert_eq!(header(&plain_head, "content-encoding"), None);
    let (head, gzipped) = get(&server.addr, "/", "Accept-Encoding: gzip\r\n");
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
    assert_eq!(&gzipped[..2], b"\x1f\x8b", "a gzip stream");
    assert!(
        gzipped.len() < plain.len() / 2,
        "{} vs {}",
        gzipped.len(),
        plain.len()
    );
    let (head, _) = get(&server.addr, "/", "Accept-Encoding: br\r\n");
    assert_eq!(header(&head, "content-encoding"), Some("br"), "{head}");
    // --no-compression turns it off.
    drop(server);
    let server = ServeProcess::start(dir.path(), "app.js", &["--no-compression"]);
    let (head, _) = get(&server.addr, "/", "Accept-Encoding: gzip, br\r\n");
    assert_eq!(header(&head, "content-encoding"), None);
}

/// `coldstart serve app.js ARGS` with `env`, stderr captured; waits for the address line.
fn serve_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut all = vec!["serve", "app.js", "--store", "store"];
    all.extend_from_slice(args);
    let mut cmd = command(dir, &all);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = served_address(&mut child, "coldstart serve app.js");
    (child, addr)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn port_and_host_come_from_the_environment_and_every_request_is_logged_with_an_id() {
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let port = free_port();
    let (mut child, addr) = serve_with_env(
        dir.path(),
        &[],
        &[
            ("PORT", &port.to_string()),
            ("HOST", "127.0.0.1"),
            ("COLDSTART_LOG", "warn,coldstart::access=info"),
        ],
    );
    assert_eq!(addr, format!("127.0.0.1:{port}"));
    let started = Instant::now();
    while get(&addr, "/_coldstart/health", "").0.is_empty() {
        assert!(started.elapsed() < HANG);
    }
    let (head, _) = get(&addr, "/p/1", "X-Request-Id: trace-abc-123\r\n");
    assert_eq!(header(&head, "x-request-id"), Some("trace-abc-123"));
    let (head, _) = get(&addr, "/p/2", "");
    let generated = header(&head, "x-request-id").unwrap().to_string();
    assert_eq!(generated.len(), 24, "{generated}");
    assert!(generated.chars().all(|c| c.is_ascii_hexdigit()));
    let (head, _) = get(&addr, "/p/3", "X-Request-Id: bad id with spaces\r\n");
    assert_ne!(header(&head, "x-request-id"), Some("bad id with spaces"));
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let _ = child.wait();
    let line = stderr
        .lines()
        .find(|l| l.contains("trace-abc-123"))
        .unwrap_or_else(|| panic!("no access line for the request: {stderr}"));
    for field in [
        "method=GET",
        "path=/p/1",
        "status=200",
        "generation=1",
        "bytes=",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
    assert!(
        stderr.contains(&format!("request_id={generated}")),
        "{stderr}"
    );
    // A PORT that is not a number is a clear error.
    let out = {
        let mut cmd = command(dir.path(), &["serve", "app.js", "--store", "store"]);
        cmd.env("PORT", "eighty");
        crate::bin::output_within(&mut cmd, HANG, "serve with a bad PORT")
    };
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORT=`eighty` is not a port number"));
}

/// Whether this machine lets the test make a folder read-only for one command (a private mount
/// namespace; root inside the sandbox, as on CI).
fn can_mount_read_only() -> bool {
    std::process::Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind /tmp /tmp && mount -o remount,ro,bind /tmp /tmp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn listing(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                meta.len(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn serve_runs_from_a_read_only_store_and_rebuilds_into_the_state_dir() {
    if !can_mount_read_only() {
        eprintln!("SKIPPED LOUDLY: this machine cannot make a read-only bind mount (unshare -m)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    // Bake the store, as an image build would.
    let out = run_within(dir.path(), &["build", "app.js", "--store", "baked"], HANG);
    assert!(out.status.success());
    let baked = dir.path().join("baked");
    let before = listing(&baked);
    let bin = env!("CARGO_BIN_EXE_coldstart");
    let script = format!(
        "mount --bind {b} {b} && mount -o remount,ro,bind {b} {b} && \
         touch {b}/probe 2>/dev/null && echo WRITABLE; \
         exec {bin} serve app.js --store baked --state-dir state --port 0",
        b = baked.display()
    );
    let mut child = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .current_dir(dir.path())
        .env("COLDSTART_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(stdout);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(HANG).expect("serve started");
    assert!(
        !line.contains("WRITABLE"),
        "the baked store must be read-only for this test"
    );
    let addr = line.trim().rsplit("http://").next().unwrap().to_string();
    let started = Instant::now();
    loop {
        let (head, body) = get(&addr, "/ro", "");
        if status(&head) == 200 {
            assert!(String::from_utf8_lossy(&body).contains("<main>/ro:"));
            break;
        }
        assert!(started.elapsed() < HANG, "{head}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A reload to a changed bundle builds into the state dir.
    std::fs::write(
        dir.path().join("app.js"),
        SMALL_APP.replace("<main>", "<main class=v2>"),
    )
    .unwrap();
    let (head, body) = exchange(
        &addr,
        "POST /_coldstart/reload HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status(&head), 200, "{}", String::from_utf8_lossy(&body));
    let (_, body) = get(&addr, "/ro", "");
    assert!(String::from_utf8_lossy(&body).contains("<main class=v2>"));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(listing(&baked), before, "the baked store was not written");
    let state: Vec<String> = listing(&dir.path().join("state"))
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert!(state.iter().any(|n| n.ends_with(".snap")), "{state:?}");
    assert!(state.contains(&"CURRENT".to_string()), "{state:?}");
}
