//! Part 4, in process: the fake cluster and the mock.

use crate::*;
use thoughtspot_session_core::SessionApi;

pub(crate) fn in_process() {
    println!("\n## 4. In-process get token calls per second (one core, no runtime)\n");
    use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser, MockResponse, MockTransport};
    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new("analyst", "pw"))
        .secret_key("trusted-key")
        .build();
    let fake_client = fake.client();
    let mock = MockTransport::new();
    mock.verify_on_drop(false);
    mock.expect_get_token().at_least(0).respond(MockResponse::json(
        200,
        serde_json::from_str(TOKEN_BODY).expect("json"),
    ));
    let mock_client = mock.client();
    let request = sdk_request();
    let mut fake_rates = Vec::new();
    let mut mock_rates = Vec::new();
    for _ in 0..3 {
        let (ns, _) = measure(100_000, || {
            std::hint::black_box(block_on(fake_client.get_token(&request)).expect("token"));
        });
        fake_rates.push(1e9 / ns);
        let (ns, _) = measure(100_000, || {
            std::hint::black_box(block_on(mock_client.get_token(&request)).expect("token"));
        });
        mock_rates.push(1e9 / ns);
        mock.reset();
        mock.expect_get_token().at_least(0).respond(MockResponse::json(
            200,
            serde_json::from_str(TOKEN_BODY).expect("json"),
        ));
    }
    println!("| transport | calls/s (min / median / max) | target |");
    println!("|---|---|---|");
    println!(
        "| FakeThoughtSpot | {} | at least 500,000 |",
        spread(&fake_rates, 0)
    );
    println!(
        "| MockTransport | {} | at least 1,000,000 |",
        spread(&mock_rates, 0)
    );
}
