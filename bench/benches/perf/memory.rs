//! Part 5, memory: 10,000 calls at once.

use crate::*;
use std::process::Command;
use std::time::Instant;

pub(crate) fn memory_mode(variant: Variant, port: u16, bound: Option<usize>) {
    let runtime = current_thread();
    let start = Instant::now();
    runtime.block_on(async {
        let c = client(variant, port, bound);
        let calls: Vec<_> = (0..10_000)
            .map(|_| {
                let c = c.clone();
                tokio::spawn(async move { c.get_token().await })
            })
            .collect();
        for call in calls {
            call.await.expect("call");
        }
    });
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap_or("?")
        .trim()
        .to_owned();
    println!("{peak}|{:.2}", start.elapsed().as_secs_f64());
}

pub(crate) fn memory() {
    println!("\n## 5. Peak resident memory of 10,000 get token calls started at once\n");
    let server = Server::start();
    let exe = std::env::current_exe().expect("exe");
    println!("| client | peak resident | wall time |");
    println!("|---|---|---|");
    for (variant, bound) in [
        (Variant::RawReqwest, None),
        (Variant::SdkReqwest, None),
        (Variant::SdkReqwest, Some(64)),
        (Variant::RawHyper, None),
        (Variant::SdkHyper, None),
        (Variant::SdkHyper, Some(64)),
    ] {
        let mut command = Command::new(&exe);
        command.args(["--mem", variant.name(), &server.port.to_string()]);
        if let Some(b) = bound {
            command.arg(b.to_string());
        }
        let output = command.output().expect("runs");
        let line = String::from_utf8_lossy(&output.stdout);
        let (peak, secs) = line.trim().split_once('|').unwrap_or(("failed", "?"));
        let label = match bound {
            Some(b) => format!("{} with max_in_flight({b})", variant.name()),
            None => variant.name().to_owned(),
        };
        println!("| {label} | {peak} | {secs} s |");
    }
    println!("\nTargets: with max_in_flight(64) at most 64 MiB; unbounded within 1.1x of the raw client.");
}
