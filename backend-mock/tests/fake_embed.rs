//! The fake answers what the Visual Embed SDK asks of a cluster: token and session checks,
//! session info, login by token into a cookie the browser sends cross-site, logout, the
//! embed page, and CORS as a cluster's allow-list.

use bytes::Bytes;
use http::{Method, Request, Response, header};
use std::time::Duration;
use thoughtspot_session_core::{GetTokenRequest, SessionApi};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};

const PAGE: &str = "http://localhost:3000";

fn fake() -> FakeThoughtSpot {
    FakeThoughtSpot::builder()
        .user(FakeUser::new("analyst", "pw").orgs([7]))
        .secret_key("key")
        .cors_origin(PAGE)
        .build()
}

fn call(
    fake: &FakeThoughtSpot,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response<Bytes> {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("https://ts.example.com{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    fake.handle(&request.body(Bytes::from(body.to_owned())).expect("a request"))
}

fn json(response: &Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).expect("JSON")
}

async fn token(fake: &FakeThoughtSpot) -> String {
    let issued = fake
        .client()
        .get_token(&GetTokenRequest::with_secret_key("analyst", "key"))
        .await
        .expect("a token");
    issued.token().expect("token").secret().to_owned()
}

#[tokio::test]
async fn isactive_session_info_and_preauth_follow_the_fakes_users_and_tokens() {
    let fake = fake();
    let t = token(&fake).await;
    let bearer = format!("Bearer {t}");
    let auth = [
        ("authorization", bearer.as_str()),
        ("x-requested-by", "ThoughtSpot"),
    ];
    assert_eq!(
        call(&fake, Method::GET, "/callosum/v1/session/isactive", &auth, "").status(),
        200
    );
    assert_eq!(
        call(&fake, Method::GET, "/callosum/v1/session/isactive", &[], "").status(),
        401
    );
    let info = json(&call(&fake, Method::GET, "/callosum/v1/session/info", &auth, ""));
    assert_eq!(info["userName"], "analyst");
    assert_eq!(info["currentOrgId"], 7);
    assert!(info["userGUID"].is_string());
    assert_eq!(info["configInfo"]["isPublicUser"], false);
    assert!(
        info["configInfo"]["mixpanelConfig"].is_object(),
        "the SDK throws without it"
    );
    let preauth = json(&call(&fake, Method::GET, "/prism/preauth/info", &auth, ""));
    assert_eq!(preauth["info"]["userName"], "analyst");

    // A revoked or expired token is refused as on every other path.
    let revoked = token(&fake).await;
    let c = fake.client();
    c.set_access_token(revoked.as_str()).unwrap();
    assert!(c.revoke_token().await.unwrap());
    let bearer = format!("Bearer {revoked}");
    assert_eq!(
        call(
            &fake,
            Method::GET,
            "/callosum/v1/session/isactive",
            &[("authorization", &bearer)],
            ""
        )
        .status(),
        401
    );
    fake.clock().advance(Duration::from_secs(3600));
    let bearer = format!("Bearer {t}");
    assert_eq!(
        call(
            &fake,
            Method::GET,
            "/callosum/v1/session/isactive",
            &[("authorization", &bearer)],
            ""
        )
        .status(),
        401
    );
}

#[tokio::test]
async fn login_by_token_sets_a_cookie_a_browser_sends_cross_site_and_logout_ends_it() {
    let fake = fake();
    let t = token(&fake).await;
    let form = format!("username=analyst&auth_token={t}");
    let login = call(
        &fake,
        Method::POST,
        "/callosum/v1/session/login/token",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-requested-by", "ThoughtSpot"),
        ],
        &form,
    );
    assert!(login.status().is_success(), "{}", login.status());
    let cookie = login.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("SameSite=None") && cookie.contains("Secure"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let with_cookie = [("cookie", session.as_str())];
    assert_eq!(
        call(
            &fake,
            Method::GET,
            "/callosum/v1/session/isactive",
            &with_cookie,
            ""
        )
        .status(),
        200
    );
    assert_eq!(fake.live_sessions().len(), 1);
    assert!(
        call(
            &fake,
            Method::POST,
            "/callosum/v1/session/logout",
            &with_cookie,
            ""
        )
        .status()
        .is_success()
    );
    assert_eq!(
        call(
            &fake,
            Method::GET,
            "/callosum/v1/session/isactive",
            &with_cookie,
            ""
        )
        .status(),
        401
    );
    // The GET fallback, and refusals: another user's name, a made-up token.
    let get = call(
        &fake,
        Method::GET,
        &format!("/callosum/v1/session/login/token?auth_token={t}"),
        &[],
        "",
    );
    assert!(get.status().is_success());
    let other = call(
        &fake,
        Method::POST,
        "/callosum/v1/session/login/token",
        &[],
        &format!("username=bob&auth_token={t}"),
    );
    assert_eq!(other.status(), 401);
    let made_up = call(
        &fake,
        Method::POST,
        "/callosum/v1/session/login/token",
        &[],
        "auth_token=nope",
    );
    assert_eq!(made_up.status(), 401);
}

#[test]
fn cors_answers_the_allow_list_and_nothing_else() {
    let fake = fake();
    let preflight = |origin: &str| {
        call(
            &fake,
            Method::OPTIONS,
            "/callosum/v1/session/isactive",
            &[
                ("origin", origin),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization,x-requested-by"),
            ],
            "",
        )
    };
    let ok = preflight(PAGE);
    assert_eq!(ok.status(), 204);
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], PAGE);
    assert_eq!(h["access-control-allow-credentials"], "true");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for needed in ["authorization", "x-requested-by", "content-type"] {
        assert!(allowed.contains(needed), "{allowed}");
    }
    let refused = preflight("http://evil.example");
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    // Simple requests: the origin echoed for the list, nothing for others.
    let from_page = call(
        &fake,
        Method::GET,
        "/callosum/v1/session/isactive",
        &[("origin", PAGE)],
        "",
    );
    assert_eq!(from_page.headers()["access-control-allow-origin"], PAGE);
    let from_elsewhere = call(
        &fake,
        Method::GET,
        "/callosum/v1/session/isactive",
        &[("origin", "http://evil.example")],
        "",
    );
    assert!(
        from_elsewhere
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    // No allow-list: no CORS headers at all, as before.
    let plain = FakeThoughtSpot::builder().user(FakeUser::new("a", "pw")).build();
    let r = call(
        &plain,
        Method::GET,
        "/callosum/v1/session/isactive",
        &[("origin", PAGE)],
        "",
    );
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn the_embed_page_is_served() {
    let fake = fake();
    let page = call(&fake, Method::GET, "/?embedApp=true", &[], "");
    assert_eq!(page.status(), 200);
    assert!(String::from_utf8_lossy(page.body()).contains("fake ThoughtSpot"));
}
