//! FakeThoughtSpot's behaviour is the same in-process and over loopback through each
//! production backend.

thoughtspot_session_tests::fake_suite!(
    password_login_cookie_session,
    token_lifecycle,
    expiry_on_the_virtual_clock,
    bad_parameters_and_view_tokens,
    v2_operations,
);
