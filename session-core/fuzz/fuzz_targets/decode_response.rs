//! Feeds arbitrary bytes to every response decoder of the client.
//!
//! Run on demand (needs a nightly toolchain and cargo-fuzz):
//! `cd session-core && cargo +nightly fuzz run decode_response -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    thoughtspot_session_core::fuzzing::decode_all(body);
});
