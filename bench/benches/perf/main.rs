//! Benchmarks of thoughtspot-session: what the SDK costs over the HTTP client it runs on.
//!
//! ```sh
//! cargo bench -p thoughtspot-session-bench               # everything (about 2 minutes once built)
//! cargo bench -p thoughtspot-session-bench -- core       # one part: core | loopback | callgrind | inprocess | memory | allocations | tokens | topologies | service | service-instructions
//! ```
//!
//! The loopback server runs in its own process, pinned to CPU 1 where `taskset` exists; the
//! client runs pinned to CPU 0. Results and targets: BENCHMARKS.md.
//!
//! One module per part; this file only dispatches.

mod allocations;
mod bodies;
mod callgrind;
mod clients;
mod core_cost;
mod counting;
mod in_process;
mod loopback;
mod memory;
mod server;
mod service;
mod tokens;
mod topologies;

use allocations::*;
use bodies::*;
use callgrind::*;
use clients::*;
use core_cost::*;
use counting::*;
use in_process::*;
use loopback::*;
use memory::*;
use server::*;
use service::*;
use thoughtspot_session_core::SessionApi;
use tokens::*;
use topologies::*;

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` runs this binary too, without `--bench`: nothing to do then.
    let internal = all.first().is_some_and(|a| a.starts_with("--") && a != "--bench");
    if !internal && !all.iter().any(|a| a == "--bench") {
        println!("benchmarks run with `cargo bench -p thoughtspot-session-bench`");
        return;
    }
    let args: Vec<String> = all.into_iter().filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("--serve") => return serve(),
        Some("--serve-token-service") => {
            return serve_token_service(args[1].parse().expect("users"), args.get(2).map(String::as_str));
        }
        Some("--serve-bare-axum") => return serve_bare_axum(),
        Some("--calls") => {
            return calls_mode(
                Variant::parse(&args[1]),
                args[2].parse().expect("port"),
                args[3].parse().expect("n"),
                args.get(4).map_or(1, |a| a.parse().expect("in flight")),
            );
        }
        Some("--profile-core") => {
            // For `valgrind --tool=callgrind`: N SDK calls over the in-memory transport.
            let client = canned_client();
            let request = sdk_request();
            for _ in 0..args[1].parse::<usize>().expect("n") {
                std::hint::black_box(block_on(client.get_token(&request)).expect("decodes"));
            }
            return;
        }
        Some("--profile-core-v2") => {
            use thoughtspot_session_core::v2::AuthApi;
            let client = canned_v2_client();
            let request = v2_request();
            for _ in 0..args[1].parse::<usize>().expect("n") {
                std::hint::black_box(block_on(client.token_full(&request)).expect("decodes"));
            }
            return;
        }
        Some("--profile-raw") => {
            let uri: http::Uri = "https://cluster.example.com/tspublic/rest/v2/session/gettoken"
                .parse()
                .expect("uri");
            for _ in 0..args[1].parse::<usize>().expect("n") {
                raw_minimum(&uri);
            }
            return;
        }
        Some("--profile-fake") => {
            use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
            let fake = FakeThoughtSpot::builder()
                .user(FakeUser::new("analyst", "pw"))
                .secret_key("trusted-key")
                .build();
            let client = fake.client();
            let request = sdk_request();
            for _ in 0..args[1].parse::<usize>().expect("n") {
                std::hint::black_box(block_on(client.get_token(&request)).expect("token"));
            }
            return;
        }
        Some("--mem") => {
            return memory_mode(
                Variant::parse(&args[1]),
                args[2].parse().expect("port"),
                args.get(3).map(|b| b.parse().expect("bound")),
            );
        }
        _ => {}
    }
    let wanted = |part: &str| args.is_empty() || args.iter().any(|a| a == part);
    println!(
        "# thoughtspot-session benchmarks ({} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if wanted("core") {
        core_cost();
    }
    if wanted("inprocess") {
        in_process();
    }
    if wanted("loopback") {
        loopback();
    }
    if wanted("callgrind") {
        callgrind();
    }
    if wanted("memory") {
        memory();
    }
    if wanted("allocations") {
        allocations();
    }
    if wanted("tokens") {
        tokens();
    }
    if wanted("topologies") {
        topologies();
    }
    if wanted("service") {
        service();
    } else if args.iter().any(|a| a == "service-instructions") {
        service_instructions();
    }
}
