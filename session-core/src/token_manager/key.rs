//! What a token is for ([`TokenKey`]) and a token the manager handed out ([`ManagedToken`]).

use super::rules::TokenRules;
use crate::model::AccessLevel;
use crate::secret::AccessToken;
use std::time::SystemTime;

/// What a token is for: user, org, access level, object, groups and row-level rules.
/// Tokens are cached per key: two keys that differ in any of these never share a token.
///
/// A key with [groups](Self::with_groups) or [rules](Self::with_rules) is minted through
/// REST API v2.0 ([`SessionApi::get_v2_token`](crate::SessionApi::get_v2_token)):
/// `token/custom` with rules, else `token/full` or `token/object` with the groups and
/// `auto_create` on (the cluster's JIT provisioning).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub(super) user: String,
    pub(super) org: Option<String>,
    pub(super) access_level: AccessLevel,
    pub(super) object_id: Option<String>,
    pub(super) groups: Vec<String>,
    pub(super) rules: Option<TokenRules>,
}

impl TokenKey {
    /// A full-access token for `user`, in the user's default org.
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            org: None,
            access_level: AccessLevel::Full,
            object_id: None,
            groups: Vec::new(),
            rules: None,
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

    /// The groups the user is put in when the token is minted (JIT provisioning), by id or
    /// name. They are a set: order and repeats do not make another key.
    #[must_use]
    pub fn with_groups<I, G>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = G>,
        G: Into<String>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
        self.groups.sort_unstable();
        self.groups.dedup();
        self
    }

    /// Row-level rules: the token is a custom (ABAC) token carrying them.
    #[must_use]
    pub fn with_rules(mut self, rules: TokenRules) -> Self {
        self.rules = Some(rules);
        self
    }

    /// The groups, sorted.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// The row-level rules, if any.
    pub fn rules(&self) -> Option<&TokenRules> {
        self.rules.as_ref()
    }

    /// Whether the key is minted through REST API v2.0's richer requests (it has groups or
    /// rules).
    pub fn is_shaped(&self) -> bool {
        !self.groups.is_empty() || self.rules.is_some()
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
