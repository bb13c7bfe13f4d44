//! Property tests of every decoder: arbitrary bytes and arbitrary JSON never panic, and
//! every valid model survives encode then decode.

use crate::endpoint::{boolean, json};
use crate::error::{ErrorEnvelope, shape_snippet};

/// Every word a shape description may hold.
const SHAPE_WORDS: &[&str] = &[
    "empty",
    "bytes",
    "of",
    "white",
    "space",
    "HTML",
    "page",
    "malformed",
    "JSON",
    "object",
    "array",
    "string",
    "text",
    "not",
    "binary",
    "data",
    "null",
    "boolean",
    "number",
    "char",
    "chars",
    "item",
    "items",
    "field",
    "fields",
    "more",
];
use crate::model::{
    AccessLevel, GetTokenRequest, LoginRequest, SessionInfo, SessionLoginResponse, TokenType,
};
use crate::secret::AccessToken;
use proptest::prelude::*;
use std::time::{Duration, UNIX_EPOCH};

fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("-1"),
            Just(""),
            Just("1648051501240"),
            Just("true"),
            Just("Bearer")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("userName".to_owned()),
            Just("token".to_owned()),
            Just("tokenCreatedTime".to_owned()),
            Just("tokenExpiryDuration".to_owned()),
            Just("tokenType".to_owned()),
            Just("error".to_owned()),
            Just("errors".to_owned()),
            Just("extension".to_owned()),
            Just("extensions".to_owned()),
            Just("exception".to_owned()),
            Just("upstreamResponse".to_owned()),
            Just("data".to_owned()),
            Just("status".to_owned()),
            Just("privileges".to_owned()),
            Just("expirationTime".to_owned()),
            "[a-zA-Z]{1,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((keys, inner), 0..6)
                .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Runs every decoder on `body`; none may panic, whatever the outcome.
fn decode_everything(body: &[u8]) {
    let _ = json::<SessionLoginResponse>(http::StatusCode::OK, body)
        .map(|r| (r.created_at(), r.expires_at(), r.lifetime()));
    let _ = json::<SessionInfo>(http::StatusCode::OK, body).map(|i| {
        (
            i.user_name().map(str::len),
            i.privileges().count(),
            i.expiration_time(),
            i.current_org_id(),
        )
    });
    let _ = json::<GetTokenRequest>(http::StatusCode::OK, body).map(|r| r.validate());
    let _ = json::<LoginRequest>(http::StatusCode::OK, body).map(|r| r.validate());
    let _ = ErrorEnvelope::from_body(body);
    let _ = boolean(http::StatusCode::OK, body);
    let _ = shape_snippet(body);
}

fn non_empty() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9@._-]{1,24}"
}

fn token_type() -> impl Strategy<Value = TokenType> {
    prop_oneof![
        Just(TokenType::Bearer),
        Just(TokenType::Cookie),
        "[A-Z][a-z]{2,8}"
            .prop_filter("not a known type", |s| {
                !s.eq_ignore_ascii_case("bearer") && !s.eq_ignore_ascii_case("cookie")
            })
            .prop_map(TokenType::Other),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&body);
    }

    #[test]
    fn arbitrary_json_never_panics(value in any_json()) {
        let body = serde_json::to_vec(&value).expect("a JSON value encodes");
        decode_everything(&body);
        decode_everything(&serde_json::to_vec(&serde_json::json!({"error": value})).expect("encodes"));
    }

    #[test]
    fn the_snippet_never_quotes_a_secret_wherever_it_stands(
        secret in "[a-zA-Z0-9_.~+/-]{5,39}[0-9]",
        filler in "[a-z]{1,8}",
        form in 0usize..12,
    ) {
        // Where a broken or hostile server may put a token: quoted values and keys, unquoted
        // values, plain text, form bodies, numbers-looking text, nested, and cut short.
        let quoted = serde_json::to_string(&secret).expect("a string encodes");
        let body = match form {
            0 => format!(r#"{{"{filler}": {quoted}, "tokenType": "Bearer"}}"#),
            1 => format!(r#"{{{quoted}: 1}}"#),
            2 => format!(r#"{{"token": {secret}}}"#),
            3 => secret.clone(),
            4 => format!("token={secret}&expires=300"),
            5 => format!("[{quoted}, {{{quoted}: [{quoted}]}}]"),
            6 => format!(r#"{{"{filler}": {quoted}"#),
            7 => format!("{quoted}\n"),
            8 => format!("{secret} {filler}"),
            9 => format!(r#"{{"a": {{"b": {{"{secret}": null}}}}}}"#),
            10 => format!("[{secret}]"),
            _ => format!("{filler}{secret}"),
        };
        let snippet = shape_snippet(body.as_bytes());
        prop_assert!(!snippet.contains(&secret), "{snippet}");
        // Only the describing words, counts and punctuation are ever written.
        let words = snippet
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty());
        for word in words {
            prop_assert!(SHAPE_WORDS.contains(&word), "{word:?} in {snippet}");
        }
    }

    #[test]
    fn login_responses_round_trip(
        user in proptest::option::of(non_empty()),
        token in proptest::option::of(non_empty()),
        created_ms in proptest::option::of(0u64..4_000_000_000_000),
        lifetime in proptest::option::of(0u64..1_000_000),
        kind in proptest::option::of(token_type()),
    ) {
        let mut r = SessionLoginResponse::new();
        if let Some(u) = user { r = r.with_user_name(u); }
        if let Some(t) = token { r = r.with_token(AccessToken::new(t)); }
        if let Some(c) = created_ms { r = r.with_created_at(UNIX_EPOCH + Duration::from_millis(c)); }
        if let Some(l) = lifetime { r = r.with_lifetime(Duration::from_secs(l)); }
        if let Some(k) = kind { r = r.with_token_type(k); }
        let body = crate::secret::to_wire_json(&r).expect("encodes");
        prop_assert_eq!(json::<SessionLoginResponse>(http::StatusCode::OK, &body).expect("decodes"), r);
    }

    #[test]
    fn token_requests_round_trip(
        user in non_empty(),
        secret in non_empty(),
        by_key in any::<bool>(),
        object in proptest::option::of(non_empty()),
        expiry in proptest::option::of(1u64..100_000_000),
        org in proptest::option::of(non_empty()),
        full in any::<bool>(),
    ) {
        let mut r = if by_key {
            GetTokenRequest::with_secret_key(user, secret)
        } else {
            GetTokenRequest::with_password(user, secret)
        };
        if let Some(o) = object { r = r.with_report_book_view(o); } else if full { r = r.with_access_level(AccessLevel::Full); }
        if let Some(e) = expiry { r = r.with_token_expiry(Duration::from_secs(e)); }
        if let Some(o) = org { r = r.with_org_id(o); }
        prop_assert!(r.validate().is_ok());
        let body = crate::secret::to_wire_json(&r).expect("encodes");
        prop_assert_eq!(json::<GetTokenRequest>(http::StatusCode::OK, &body).expect("decodes"), r);
    }

    #[test]
    fn login_requests_round_trip(user in non_empty(), password in non_empty(), remember in proptest::option::of(any::<bool>())) {
        let mut r = LoginRequest::with_password(user, password);
        if let Some(flag) = remember { r = r.with_remember_me(flag); }
        let body = crate::secret::to_wire_json(&r).expect("encodes");
        prop_assert_eq!(json::<LoginRequest>(http::StatusCode::OK, &body).expect("decodes"), r);
    }

    #[test]
    fn error_envelopes_round_trip(status in 100u16..600, code in any::<i64>(), debug in non_empty(), ids in proptest::option::of((non_empty(), non_empty()))) {
        let mut e = ErrorEnvelope::upstream(status, code, debug);
        if let Some((incident, trace)) = ids { e = e.with_ids(incident, trace); }
        let body = serde_json::to_vec(&e.to_json()).expect("encodes");
        prop_assert_eq!(ErrorEnvelope::from_body(&body), Some(e));
    }

    #[test]
    fn booleans_round_trip(b in any::<bool>(), as_string in any::<bool>()) {
        let body = if as_string { format!("\"{b}\"") } else { b.to_string() };
        prop_assert_eq!(boolean(http::StatusCode::OK, body.as_bytes()).ok(), Some(b));
    }
}
