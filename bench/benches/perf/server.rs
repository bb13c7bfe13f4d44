//! The loopback server in its own process, CPU pinning and the process's CPU times.

use crate::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

pub(crate) fn serve() {
    let runtime = current_thread();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{}", listener.local_addr().expect("addr").port());
        std::io::stdout().flush().expect("flush");
        // Stop when the parent closes our stdin.
        let stop = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().lock().read_line(&mut line).map(|n| n > 0).unwrap_or(false) {}
        });
        let mut stop = std::pin::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                            let path = request.uri().path().to_owned();
                            let _ = request.into_body().collect().await;
                            let mut response = hyper::Response::new(Full::new(Bytes::from_static(answer(&path).as_bytes())));
                            response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
                            Ok::<_, std::convert::Infallible>(response)
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    });
}

pub(crate) struct Server {
    pub(crate) child: std::process::Child,
    pub(crate) port: u16,
}

impl Server {
    pub(crate) fn start() -> Self {
        Self::start_mode("--serve")
    }

    /// This binary in `mode` (`--serve`, `--serve-bare-axum`), pinned to CPU 1.
    pub(crate) fn start_mode(mode: &str) -> Self {
        Self::start_args(&[mode])
    }

    /// This binary with `args` (a mode and its arguments), pinned to CPU 1.
    pub(crate) fn start_args(args: &[&str]) -> Self {
        let exe = std::env::current_exe().expect("exe");
        let pinned = has_taskset();
        let mut command = if pinned {
            Command::new("taskset")
        } else {
            Command::new(&exe)
        };
        if pinned {
            command.arg("-c").arg("1").arg(&exe);
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("port");
        Self {
            child,
            port: line.trim().parse().expect("a port"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

pub(crate) fn has_taskset() -> bool {
    std::thread::available_parallelism()
        .map(|n| n.get() >= 2)
        .unwrap_or(false)
        && Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
}

pub(crate) fn pin_self_to_cpu0() {
    if has_taskset() {
        let _ = Command::new("taskset")
            .args(["-cp", "0", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status();
    }
}

/// The client process's CPU time so far, (user, system), from `getrusage` (microseconds;
/// /proc/self/stat counts in ticks of 10 ms, too coarse for short rounds).
pub(crate) fn cpu_times() -> (Duration, Duration) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the buffer it is given, which is a valid
    // rusage (all zeroes) even if it failed.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (time(usage.ru_utime), time(usage.ru_stime))
}
