//! The auth rule of each operation, the cookie round trip, and how logout and revoke token
//! forget the local session.

mod support;

use support::*;
use thoughtspot_session_core::{Error, GetTokenRequest, LoginRequest, SessionApi, SessionLoginResponse};

/// Runs all five operations and returns the Authorization header each one sent.
async fn authorization_per_operation(token: Option<&str>) -> Vec<(String, Option<String>)> {
    let t = FnTransport::new(|r, _| {
        Reply::Answer(match r.uri().path() {
            p if p.ends_with("/session") => answer(200, "{}"),
            p if p.ends_with("/login") || p.ends_with("/gettoken") => answer(200, "{}"),
            _ => answer(200, "true"),
        })
    });
    let mut b = builder(&InstantSleep::default());
    if let Some(token) = token {
        b = b.access_token(token);
    }
    let c = b.build(t.clone()).unwrap();
    c.get_session_info().await.unwrap();
    c.login(&LoginRequest::with_password("u", "p")).await.unwrap();
    c.get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap();
    c.logout().await.unwrap();
    if let Some(token) = token {
        c.set_access_token(token).unwrap(); // logout forgot it
    }
    c.revoke_token().await.unwrap();
    t.requests()
        .iter()
        .map(|r| {
            (
                r.uri().path().rsplit('/').next().unwrap().to_owned(),
                header(r, "authorization").map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_token_goes_only_where_the_specification_says() {
    let bearer = Some("Bearer tok-1".to_owned());
    assert_eq!(
        authorization_per_operation(Some("tok-1")).await,
        [
            ("session".to_owned(), bearer.clone()),
            ("login".to_owned(), bearer.clone()),
            ("gettoken".to_owned(), None),
            ("logout".to_owned(), None),
            ("revoketoken".to_owned(), bearer),
        ]
    );
    assert!(
        authorization_per_operation(None)
            .await
            .iter()
            .all(|(_, auth)| auth.is_none())
    );
}

#[tokio::test]
async fn a_token_from_get_token_is_used_for_a_bearer_login() {
    let t = FnTransport::always(200, TOKEN_BODY);
    let c = client(&t);
    let refused = c.login(&LoginRequest::bearer()).await.unwrap_err();
    assert!(matches!(refused, Error::InvalidRequest(_)), "{refused}");
    assert_eq!(t.count(), 0, "an invalid request is never sent");

    let issued = c
        .get_token(&GetTokenRequest::with_secret_key("analyst", "k"))
        .await
        .unwrap();
    c.use_token(&issued).unwrap();
    c.login(&LoginRequest::bearer()).await.unwrap();
    let r = t.last().unwrap();
    assert_eq!(header(&r, "authorization"), Some("Bearer tok-SECRET-1"));
    assert_eq!(r.body().as_ref(), b"{}");

    let cookie_session = SessionLoginResponse::new();
    assert!(matches!(
        c.use_token(&cookie_session),
        Err(Error::InvalidRequest(_))
    ));
    assert_eq!(
        c.access_token().unwrap().secret(),
        "tok-SECRET-1",
        "a failed switch keeps the old token"
    );
    c.clear_access_token();
    c.get_session_info().await.unwrap();
    assert_eq!(header(&t.last().unwrap(), "authorization"), None);
}

fn cluster_with_cookies() -> FnTransport {
    FnTransport::new(|r, _| {
        Reply::Answer(match r.uri().path() {
            p if p.ends_with("/login") => answer_with(
                200,
                &[
                    ("set-cookie", "JSESSIONID=js-SECRET; Path=/; Secure; HttpOnly"),
                    ("set-cookie", "clientId=cid-SECRET; Path=/"),
                    ("set-cookie", "stolen=x; Domain=evil.example.org; Path=/"),
                ],
                r#"{"userName":"u","token":"","tokenType":"Cookie"}"#,
            ),
            p if p.ends_with("/session") => answer(200, r#"{"userName":"u"}"#),
            _ => answer(500, r#"{"error":{"message":"boom"}}"#),
        })
    })
}

#[tokio::test]
async fn session_cookies_go_back_on_every_call_and_are_gone_after_logout() {
    let t = cluster_with_cookies();
    let c = client(&t);
    c.login(&LoginRequest::with_password("u", "p")).await.unwrap();
    let mut names = c.cookie_names();
    names.sort();
    assert_eq!(
        names,
        ["JSESSIONID", "clientId"],
        "a cookie for another domain is refused"
    );

    c.get_session_info().await.unwrap();
    let cookie = header(&t.last().unwrap(), "cookie").unwrap().to_owned();
    let mut pairs: Vec<_> = cookie.split("; ").collect();
    pairs.sort();
    assert_eq!(pairs, ["JSESSIONID=js-SECRET", "clientId=cid-SECRET"]);

    // Logout carries the cookies (that is how the cluster finds the session), and the
    // failed logout still forgets them.
    let failed = c.logout().await.unwrap_err();
    assert!(matches!(failed, Error::Api(_)));
    assert_eq!(
        header(&t.last().unwrap(), "cookie").map(|c| c.contains("JSESSIONID=js-SECRET")),
        Some(true)
    );
    assert!(c.cookie_names().is_empty());
    c.get_session_info().await.unwrap();
    assert_eq!(header(&t.last().unwrap(), "cookie"), None);
}

#[tokio::test]
async fn revoke_token_forgets_token_and_cookies_even_when_it_fails() {
    let t = cluster_with_cookies();
    let c = builder(&InstantSleep::default())
        .access_token("tok-1")
        .build(t.clone())
        .unwrap();
    c.login(&LoginRequest::with_password("u", "p")).await.unwrap();
    assert!(c.revoke_token().await.is_err());
    assert_eq!(header(&t.last().unwrap(), "authorization"), Some("Bearer tok-1"));
    assert!(!c.has_access_token());
    assert!(c.cookie_names().is_empty());
}

#[tokio::test]
async fn a_cancelled_logout_still_forgets_the_session() {
    let t = FnTransport::new(|_, _| Reply::Hang);
    let c = builder(&InstantSleep::default())
        .access_token("tok-1")
        .no_timeout()
        .build(t.clone())
        .unwrap();
    let call = c.logout();
    // Poll once, then drop the call mid-flight.
    let polled = tokio::time::timeout(std::time::Duration::from_millis(10), call).await;
    assert!(polled.is_err());
    assert_eq!(t.count(), 1);
    assert!(!c.has_access_token());
}

#[tokio::test]
async fn clones_share_the_session() {
    let t = cluster_with_cookies();
    let a = client(&t);
    let b = a.clone();
    a.login(&LoginRequest::with_password("u", "p")).await.unwrap();
    b.set_access_token("tok-2").unwrap();
    b.get_session_info().await.unwrap();
    assert!(
        header(&t.last().unwrap(), "cookie")
            .unwrap()
            .contains("JSESSIONID")
    );
    assert!(a.has_access_token());
}

#[tokio::test]
async fn after_logout_the_client_holds_nothing_of_the_ended_session_on_either_generation() {
    use thoughtspot_session_core::ApiVersion;
    use thoughtspot_session_core::v2::AuthApi;
    // A cluster whose logout answer sets a cookie of its own (a fresh clientId, say).
    let t = FnTransport::new(|r, _| {
        let path = r.uri().path();
        Reply::Answer(if path.ends_with("/login") {
            answer_with(
                200,
                &[("set-cookie", "JSESSIONID=js-1; Path=/")],
                r#"{"userName":"u","token":"","tokenType":"Cookie"}"#,
            )
        } else if path.ends_with("/logout") {
            answer_with(200, &[("set-cookie", "clientId=set-by-logout; Path=/")], "true")
        } else {
            answer(200, r#"{"userName":"u"}"#)
        })
    });
    for version in [ApiVersion::V2Beta, ApiVersion::V2] {
        let c = builder(&InstantSleep::default())
            .api_version(version)
            .build(t.clone())
            .unwrap();
        c.login(&LoginRequest::with_password("u", "p")).await.unwrap();
        assert_eq!(c.cookie_names(), ["JSESSIONID"], "{version:?}");
        if version == ApiVersion::V2 {
            c.session_logout().await.unwrap();
        } else {
            assert!(c.logout().await.unwrap());
        }
        assert!(c.cookie_names().is_empty(), "{version:?}: {:?}", c.cookie_names());
        c.get_session_info().await.unwrap();
        assert_eq!(header(&t.last().unwrap(), "cookie"), None, "{version:?}");
    }
}
