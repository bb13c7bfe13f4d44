//! The contract suite against every backend: adding a backend is one line here.

use thoughtspot_session_tests::{
    Mocked, TransportOptions, Wiremock, contract_suite, hyper, network_suite, reqwest, tower,
};

contract_suite!(
    reqwest_backend,
    Wiremock::start(reqwest, TransportOptions::default())
);
contract_suite!(hyper_backend, Wiremock::start(hyper, TransportOptions::default()));
contract_suite!(
    reqwest_middleware_backend,
    Wiremock::start(
        thoughtspot_session_tests::reqwest_middleware,
        TransportOptions::default()
    )
);
contract_suite!(tower_backend, Wiremock::start(tower, TransportOptions::default()));
contract_suite!(mock_backend, Mocked::start());

network_suite!(reqwest_network, thoughtspot_session_tests::reqwest);
network_suite!(hyper_network, thoughtspot_session_tests::hyper);
network_suite!(tower_network, thoughtspot_session_tests::tower);
network_suite!(
    reqwest_middleware_network,
    thoughtspot_session_tests::reqwest_middleware
);
