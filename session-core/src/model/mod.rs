//! Request and response types, as they travel on the wire.

mod error_envelope;
pub(crate) mod lenient;
mod login;
mod login_response;
mod session_info;
mod token_request;

pub use error_envelope::ErrorEnvelope;
pub use login::LoginRequest;
pub use login_response::{SessionLoginResponse, TokenType};
pub use session_info::SessionInfo;
pub use token_request::{AccessLevel, GetTokenRequest};
