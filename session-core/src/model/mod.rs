//! Request and response types, as they travel on the wire.

pub(crate) mod lenient;
mod login;
mod login_response;
mod session_info;
mod token_request;

pub use login::LoginRequest;
pub use login_response::{SessionLoginResponse, TokenType};
pub use session_info::SessionInfo;
pub use token_request::{AccessLevel, GetTokenRequest};
