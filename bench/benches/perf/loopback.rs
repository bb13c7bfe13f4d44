//! Part 2, end to end on loopback: SDK against the raw client, interleaved rounds.

use crate::*;

/// The whole machine's CPU time from /proc/stat: (steal, all), in jiffies.
pub(crate) fn machine_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let all = fields.iter().take(8).sum();
    (fields.get(7).copied().unwrap_or(0), all)
}

/// The pairs of clients compared over loopback: (SDK, raw, label).
pub(crate) const PAIRS: [(Variant, Variant, &str); 6] = [
    (Variant::SdkReqwest, Variant::RawReqwest, "reqwest"),
    (Variant::SdkHyper, Variant::RawHyper, "hyper"),
    (
        Variant::SdkReqwestV2,
        Variant::RawReqwestV2,
        "reqwest, v2.0 token/full",
    ),
    (Variant::SdkHyperV2, Variant::RawHyperV2, "hyper, v2.0 token/full"),
    (
        Variant::SdkHyperPlain,
        Variant::RawHyper,
        "hyper, the SDK on the raw client's HttpConnector",
    ),
    (
        Variant::SdkHyper,
        Variant::SdkHyperNoTimeout,
        "hyper, the SDK with its whole-call timeout against without",
    ),
];

pub(crate) fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Calls a run, rounds, and which pairs (by label prefix), from the environment:
/// `BENCH_CALLS` (calls at 64 in flight; a tenth of it sequentially), `BENCH_ROUNDS`,
/// `BENCH_PAIRS` (comma-separated: reqwest, hyper, reqwest-v2, hyper-v2, hyper-plain, timeout),
/// `BENCH_MODES`
/// (comma-separated: sequential, 64).
pub(crate) fn loopback() {
    println!("\n## 2. End to end on loopback: get token, SDK against the raw client\n");
    let calls = env_number("BENCH_CALLS", 200_000);
    let rounds = env_number("BENCH_ROUNDS", 3).max(1);
    let chosen = std::env::var("BENCH_PAIRS").unwrap_or_else(|_| "reqwest,hyper,reqwest-v2,hyper-v2".into());
    let pairs: Vec<_> = PAIRS
        .iter()
        .zip([
            "reqwest",
            "hyper",
            "reqwest-v2",
            "hyper-v2",
            "hyper-plain",
            "timeout",
        ])
        .filter(|(_, key)| chosen.split(',').any(|c| c.trim() == *key))
        .map(|(pair, _)| *pair)
        .collect();
    let server = Server::start();
    pin_self_to_cpu0();
    let runtime = current_thread();
    runtime.block_on(async {
        let clients: Vec<(Variant, Client)> = pairs
            .iter()
            .flat_map(|(sdk, raw, _)| [*sdk, *raw])
            .map(|v| (v, client(v, server.port, None)))
            .collect();
        let modes = std::env::var("BENCH_MODES").unwrap_or_else(|_| "sequential,64".into());
        for (name, total, in_flight) in [("sequential", calls / 10, 1), ("64 in flight", calls, 64)]
            .into_iter()
            .filter(|(_, _, n)| modes.split(',').any(|m| m.trim() == if *n == 1 { "sequential" } else { "64" }))
        {
            let mut results: Vec<Vec<Run>> = vec![Vec::new(); clients.len()];
            for (_, c) in &clients {
                drive(c, (total / 10).max(in_flight), in_flight).await; // warm up: connections, caches
            }
            let (steal_before, all_before) = machine_jiffies();
            for round in 0..rounds {
                // Each pair runs SDK first in even rounds and raw first in odd ones, so that
                // neither always follows the other.
                for pair in 0..clients.len() / 2 {
                    let order = if round % 2 == 0 { [2 * pair, 2 * pair + 1] } else { [2 * pair + 1, 2 * pair] };
                    for i in order {
                        results[i].push(drive(&clients[i].1, total, in_flight).await);
                    }
                }
            }
            let (steal_after, all_after) = machine_jiffies();
            let steal = (steal_after - steal_before) as f64 * 100.0 / (all_after - all_before).max(1) as f64;
            println!(
                "### {name} ({total} calls a run, {rounds} interleaved rounds, steal {steal:.2}% of the machine's CPU time)\n"
            );
            println!("| client | requests/s per round | client CPU µs/request, user + system (median) |");
            println!("|---|---|---|");
            for (i, (v, _)) in clients.iter().enumerate() {
                let rps: Vec<String> = results[i].iter().map(|r| format!("{:.0}", r.requests_per_second)).collect();
                let user = median(&results[i].iter().map(|r| r.user_us).collect::<Vec<_>>());
                let system = median(&results[i].iter().map(|r| r.system_us).collect::<Vec<_>>());
                println!("| {} | {} | {user:.2} + {system:.2} = {:.2} |", v.name(), rps.join(", "), user + system);
            }
            println!();
            let target = if in_flight > 1 { 0.95 } else { 0.97 };
            println!("| pair | SDK/raw throughput per round | median | client CPU SDK/raw per round | median | targets |");
            println!("|---|---|---|---|---|---|");
            for (p, (_, _, label)) in pairs.iter().enumerate() {
                let (sdk, raw) = (&results[2 * p], &results[2 * p + 1]);
                let ratios: Vec<f64> = (0..rounds)
                    .map(|r| sdk[r].requests_per_second / raw[r].requests_per_second)
                    .collect();
                let cpu: Vec<f64> = (0..rounds).map(|r| sdk[r].cpu_us() / raw[r].cpu_us()).collect();
                let show = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ");
                let cpu_target = if in_flight > 1 { ", CPU at most 1.05" } else { "" };
                println!(
                    "| {label} | {} | {:.3} | {} | {:.3} | throughput at least {target}{cpu_target} |",
                    show(&ratios),
                    median(&ratios),
                    show(&cpu),
                    median(&cpu)
                );
            }
            println!();
        }
    });
}
