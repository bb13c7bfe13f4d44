//! REST API v2.0 authentication (`/api/rest/2.0/auth/...`), the generation every cluster
//! since 9.0.0.cl serves: its models and [`AuthApi`], its eleven operations.
//!
//! The types here follow the spec (26.8) exactly: snake_case field names, request keys
//! written in the schema's order, unset fields omitted, numbers as JSON numbers. Every
//! password, secret key and token is a secret type, redacted in `Debug`. Where spec
//! versions disagree, 26.8 is followed (see the crate's README for the list).
//!
//! [`SessionClient`](crate::SessionClient) implements [`AuthApi`] through the same pipeline
//! as the beta operations: timeouts, retries, cookies and tracing behave the same. The
//! bearer token goes on every operation the spec secures (session/user, session/token,
//! login, logout, revoke, validate, configure, search) and never on token/full,
//! token/object or token/custom.
//!
//! ```
//! use thoughtspot_session_core::v2::{AuthApi, GetFullAccessTokenRequest};
//! use thoughtspot_session_core::{ApiVersion, SessionApi};
//! use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let fake = FakeThoughtSpot::builder().user(FakeUser::new("alice", "pw")).secret_key("SK").build();
//! let client = fake.client_builder().api_version(ApiVersion::V2).build(fake.clone()).unwrap();
//!
//! let token = client.token_full(&GetFullAccessTokenRequest::with_secret_key("alice", "SK")).await.unwrap();
//! assert_eq!(token.scope.access_type, "FULL");
//! client.set_access_token(token.token.clone()).unwrap();
//! assert_eq!(client.session_user().await.unwrap().name(), "alice");
//! // SessionApi's operations go to their v2.0 successors on a V2 client.
//! assert_eq!(client.get_session_info().await.unwrap().user_name(), Some("alice"));
//! # }
//! ```

mod api;
pub(crate) mod from_beta;
mod request;
mod response;

pub use api::AuthApi;
pub use request::{
    AnyTokenRequest, AuthStatus, AuthType, ConfigureAuthSettingsRequest, FilterOperator, FilterRule,
    GetCustomAccessTokenRequest, GetFullAccessTokenRequest, GetObjectAccessTokenRequest, GroupRef,
    NamedValues, ObjectRef, PersistOption, RevokeTokenRequest, RuleValue, RuntimeFilter, RuntimeParameter,
    RuntimeSort, SearchAuthSettingsRequest, SessionLoginRequest, SettingsScope, SortOrder,
    UserParameterOptions, ValidateTokenRequest,
};
pub use response::{
    AuthSettings, ClusterPreferences, CustomAccessToken, GetTokenResponse, OrgInfo, OrgPreference, Scope,
    SettingsKey, Token, TokenValidation, User, UserInfo,
};
