//! What a token is for ([`TokenKey`]) and a token the manager handed out ([`ManagedToken`]).

use crate::model::AccessLevel;
use crate::secret::AccessToken;
use std::time::SystemTime;

/// What a token is for: user, org, access level and object. Tokens are cached per key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub(super) user: String,
    pub(super) org: Option<String>,
    pub(super) access_level: AccessLevel,
    pub(super) object_id: Option<String>,
}

impl TokenKey {
    /// A full-access token for `user`, in the user's default org.
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            org: None,
            access_level: AccessLevel::Full,
            object_id: None,
        }
    }

    /// Scopes the token to an org.
    #[must_use]
    pub fn with_org_id(mut self, org: impl Into<String>) -> Self {
        self.org = Some(org.into());
        self
    }

    /// View access to one Liveboard or visualization (`REPORT_BOOK_VIEW`).
    #[must_use]
    pub fn with_report_book_view(mut self, object_id: impl Into<String>) -> Self {
        self.access_level = AccessLevel::ReportBookView;
        self.object_id = Some(object_id.into());
        self
    }

    /// The user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The org, if scoped.
    pub fn org_id(&self) -> Option<&str> {
        self.org.as_deref()
    }

    /// The access level.
    pub fn access_level(&self) -> AccessLevel {
        self.access_level
    }

    /// The object of a `REPORT_BOOK_VIEW` key.
    pub fn object_id(&self) -> Option<&str> {
        self.object_id.as_deref()
    }
}

/// A token the manager handed out. Its `Debug` redacts the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedToken {
    pub(super) token: AccessToken,
    pub(super) issued_at: SystemTime,
    pub(super) expires_at: SystemTime,
}

impl ManagedToken {
    /// A token issued at `issued_at` that expires at `expires_at`: what a
    /// [`TokenStore`](crate::TokenStore) reads back.
    pub fn new(token: AccessToken, issued_at: SystemTime, expires_at: SystemTime) -> Self {
        Self {
            token,
            issued_at,
            expires_at,
        }
    }

    /// The bearer token.
    pub fn token(&self) -> &AccessToken {
        &self.token
    }

    /// When the manager asked for it (the manager's clock).
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When it expires, on the manager's clock: when its request was sent plus the lifetime
    /// the cluster answered (or the fallback lifetime); see [`TOKEN_CLOCK_TOLERANCE`](crate::TOKEN_CLOCK_TOLERANCE).
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}
