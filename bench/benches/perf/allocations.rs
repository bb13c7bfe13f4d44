//! Part 6, allocations per request over loopback.

use crate::*;
use std::sync::atomic::Ordering;

pub(crate) fn allocations() {
    println!("\n## 6. Allocations per request over loopback (64 in flight, 20,000 calls)\n");
    let server = Server::start();
    pin_self_to_cpu0();
    let runtime = current_thread();
    println!("| client | allocations per request | bytes allocated per request |");
    println!("|---|---|---|");
    runtime.block_on(async {
        for v in VARIANTS.into_iter().chain(V2_VARIANTS) {
            let c = client(v, server.port, None);
            drive(&c, 6_400, 64).await; // warm up: connections, caches
            let (count, bytes) = (
                ALLOCATIONS.load(Ordering::Relaxed),
                ALLOCATED_BYTES.load(Ordering::Relaxed),
            );
            const N: usize = 19_968; // a multiple of 64
            drive(&c, N, 64).await;
            let per = |now: u64, then: u64| (now - then) as f64 / N as f64;
            println!(
                "| {} | {:.1} | {:.0} |",
                v.name(),
                per(ALLOCATIONS.load(Ordering::Relaxed), count),
                per(ALLOCATED_BYTES.load(Ordering::Relaxed), bytes)
            );
        }
    });
}
