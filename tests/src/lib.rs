//! The contract suite of thoughtspot-session: scenarios written once and run against every
//! backend, so that every backend is proven to behave the same.
//!
//! - [`scenarios`]: stub-and-check scenarios over a [`Harness`] (a wiremock server behind a
//!   real transport, or the in-process MockTransport); [`contract_suite!`] runs them all.
//! - [`network`]: scenarios only a real socket has (refused connections, body caps,
//!   redirects to another server); [`network_suite!`] runs them.
//! - [`fake`]: behavioural scenarios against FakeThoughtSpot, run in-process and over
//!   loopback through each production backend; [`fake_suite!`] runs them.

// An unpublished test crate: its items are documented where it helps the reader.
#![allow(missing_docs)]

pub mod fake;
pub mod harness;
pub mod network;
pub mod scenarios;
pub mod scenarios_v2;
pub mod watchdog;

pub use harness::{Factory, Harness, Mocked, Recorded, Stub, TransportOptions, Wiremock};
pub use watchdog::{Watchdog, within};

use std::sync::Arc;
use thoughtspot_session_core::HttpTransport;

/// The reqwest transport under test.
pub fn reqwest(options: TransportOptions) -> Arc<dyn HttpTransport> {
    let transport = thoughtspot_session_reqwest::ReqwestTransport::builder()
        .max_response_body(options.max_body)
        .build()
        .expect("the reqwest transport builds");
    Arc::new(transport)
}

/// The hyper transport under test.
pub fn hyper(options: TransportOptions) -> Arc<dyn HttpTransport> {
    let transport = thoughtspot_session_hyper::HyperTransport::builder()
        .max_response_body(options.max_body)
        .build()
        .expect("the hyper transport builds");
    Arc::new(transport)
}
