//! Part 3, instructions per request under callgrind.

use crate::*;
use std::process::{Command, Stdio};

pub(crate) fn calls_mode(variant: Variant, port: u16, n: usize, in_flight: usize) {
    let runtime = current_thread();
    runtime.block_on(async {
        let c = client(variant, port, None);
        drive(&c, n, in_flight).await;
    });
}

pub(crate) fn callgrind_instructions(variant: Variant, port: u16, n: usize) -> Option<u64> {
    callgrind_run(&["--calls", variant.name(), &port.to_string(), &n.to_string()])
}

/// `valgrind --tool=callgrind` writing to `out`, ready for a program and its arguments.
pub(crate) fn callgrind_command(out: &std::path::Path) -> Command {
    let mut command = Command::new("valgrind");
    command
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()));
    command
}

/// The total instructions callgrind wrote to `out` (which is then removed).
pub(crate) fn callgrind_total(out: &std::path::Path) -> Option<u64> {
    let text = std::fs::read_to_string(out).ok()?;
    let _ = std::fs::remove_file(out);
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Total instructions of this binary run with `args` under callgrind.
pub(crate) fn callgrind_run(args: &[&str]) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::env::temp_dir().join(format!("callgrind.{}.{}", args.join("_"), std::process::id()));
    let status = callgrind_command(&out)
        .arg(&exe)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    callgrind_total(&out)
}

pub(crate) fn callgrind() {
    println!("\n## 3. Client instructions per request (valgrind callgrind, sequential)\n");
    if Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        println!("valgrind is not installed: skipped");
        return;
    }
    let server = Server::start();
    let (small, large) = (100, 600);
    let mut per = Vec::new();
    for v in VARIANTS {
        let a = callgrind_instructions(v, server.port, small);
        let b = callgrind_instructions(v, server.port, large);
        per.push(match (a, b) {
            (Some(a), Some(b)) => Some((b.saturating_sub(a)) as f64 / (large - small) as f64),
            _ => None,
        });
    }
    println!("| client | instructions per request |");
    println!("|---|---|");
    for (v, p) in VARIANTS.iter().zip(&per) {
        println!(
            "| {} | {} |",
            v.name(),
            p.map_or("n/a".to_owned(), |p| format!("{p:.0}"))
        );
    }
    for (sdk, raw, label) in [(0, 1, "reqwest"), (2, 3, "hyper")] {
        if let (Some(s), Some(r)) = (per[sdk], per[raw]) {
            println!(
                "\nSDK overhead on {label}: {:+.0} instructions per request (target at most 3,000)",
                s - r
            );
        }
    }
    let plain = |v| {
        let a = callgrind_instructions(v, server.port, small)?;
        let b = callgrind_instructions(v, server.port, large)?;
        Some(b.saturating_sub(a) as f64 / (large - small) as f64)
    };
    if let (Some(tower), Some(hyper)) = (plain(Variant::SdkTower), plain(Variant::SdkHyperPlain)) {
        println!(
            "\nThe tower backend on hyper-util's client: {tower:.0} instructions per request; the hyper backend \
             on the same client: {hyper:.0}; tower over hyper {:+.0} (target at most +1,000)",
            tower - hyper
        );
    }
    for (v, beta, label) in [(V2_VARIANTS[0], 0, "reqwest"), (V2_VARIANTS[1], 2, "hyper")] {
        let a = callgrind_instructions(v, server.port, small);
        let b = callgrind_instructions(v, server.port, large);
        if let (Some(a), Some(b), Some(beta)) = (a, b, per[beta]) {
            let v2 = b.saturating_sub(a) as f64 / (large - small) as f64;
            println!(
                "\nREST API v2.0 token_full on {label}: {v2:.0} instructions per request (beta get token: {beta:.0})"
            );
        }
    }
    let per_call = |mode: &str| -> Option<f64> {
        let a = callgrind_run(&[mode, "2000"])?;
        let b = callgrind_run(&[mode, "12000"])?;
        Some(b.saturating_sub(a) as f64 / 10_000.0)
    };
    let modes = (
        per_call("--profile-core"),
        per_call("--profile-raw"),
        per_call("--profile-fake"),
        per_call("--profile-core-v2"),
    );
    if let (Some(sdk), Some(raw), Some(fake), Some(v2)) = modes {
        println!(
            "\nIn-process instructions per get token call: SDK over an in-memory transport {sdk:.0}, \
             hand-written minimum {raw:.0} (ratio {:.2}), SDK over FakeThoughtSpot {fake:.0}; \
             REST API v2.0 token_full over an in-memory transport {v2:.0}",
            sdk / raw
        );
    }
}
