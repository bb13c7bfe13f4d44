//! `FakeThoughtSpot` as a wiremock responder (feature `wiremock`): a whole stateful cluster
//! on a team's own `MockServer`, beside its own mocks.

use crate::FakeThoughtSpot;
use bytes::Bytes;
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The session and auth paths of both generations, under any base path.
const PATHS: &str = r"/(tspublic/rest/v2/session|api/rest/2\.0/auth)(/[a-z/]*)?$";

impl Respond for FakeThoughtSpot {
    /// Answers as the fake does in-process (its latency aside: wiremock answers at once).
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut http_request = http::Request::new(Bytes::from(request.body.clone()));
        *http_request.method_mut() = request.method.clone();
        *http_request.headers_mut() = request.headers.clone();
        if let Ok(uri) = request.url.as_str().parse::<http::Uri>() {
            *http_request.uri_mut() = uri;
        }
        let response = self.handle(&http_request);
        let (parts, body) = response.into_parts();
        let mut template = ResponseTemplate::new(parts.status.as_u16());
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        for (name, value) in parts
            .headers
            .iter()
            .filter(|(n, _)| *n != http::header::CONTENT_TYPE)
        {
            template = template.append_header(name.clone(), value.clone());
        }
        match content_type {
            Some(content_type) => template.set_body_raw(body.to_vec(), &content_type),
            None => template.set_body_bytes(body.to_vec()),
        }
    }
}

impl FakeThoughtSpot {
    /// Mounts the fake on `server` for every session and auth path of both generations
    /// (feature `wiremock`): one call gives a team that already uses wiremock a whole
    /// stateful cluster on its own server, beside its own mocks and `.expect(n)` checks
    /// (mount those with a higher priority, i.e. a lower number, to take precedence).
    ///
    /// ```
    /// use thoughtspot_session_core::{GetTokenRequest, SessionApi};
    /// use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
    /// use wiremock::{Mock, ResponseTemplate, matchers::path};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let server = wiremock::MockServer::start().await;
    /// let fake = FakeThoughtSpot::builder().user(FakeUser::new("analyst", "pw")).secret_key("key").build();
    /// fake.mount(&server).await;
    /// // The team's own mock beside it, checked as usual.
    /// Mock::given(path("/health")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    ///
    /// let client = thoughtspot_session_reqwest::client(server.uri()).unwrap().build().unwrap();
    /// let issued = client.get_token(&GetTokenRequest::with_secret_key("analyst", "key")).await.unwrap();
    /// assert_eq!(fake.live_tokens()[0].token, *issued.token().unwrap());
    /// # }
    /// ```
    pub async fn mount(&self, server: &MockServer) {
        Mock::given(path_regex(PATHS))
            .respond_with(self.clone())
            .with_priority(10)
            .named("FakeThoughtSpot")
            .mount(server)
            .await;
    }
}
