//! Benchmarks live in benches/perf.rs; see BENCHMARKS.md at the workspace root.
