//! The row-level rules of a custom (ABAC) token ([`TokenRules`]).

use crate::v2::{FilterRule, GetCustomAccessTokenRequest, NamedValues, PersistOption};
use serde::Serialize;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The row-level rules of a custom token (REST API v2.0 `token/custom`): filter rules,
/// parameter and variable values, and how they combine with the rules the user already has.
/// Put them on a key with [`TokenKey::with_rules`](super::TokenKey::with_rules): the manager then asks for a custom token,
/// and the rules are part of the key, so a token minted with one set of rules is never
/// served for another, in this process or, through a shared store, in any replica.
///
/// Two rule sets are the same key when their JSON forms ([`as_json`](Self::as_json)) are
/// the same: the same rules in the same order.
///
/// ```
/// use thoughtspot_session_core::{TokenKey, TokenRules};
/// use thoughtspot_session_core::v2::{FilterOperator, FilterRule, PersistOption};
///
/// let west = TokenRules::new(PersistOption::None)
///     .filter(FilterRule::new("region", FilterOperator::In, ["west", "north"]));
/// let east = TokenRules::new(PersistOption::None)
///     .filter(FilterRule::new("region", FilterOperator::In, ["east"]));
/// let alice_west = TokenKey::new("alice").with_rules(west.clone());
/// assert_ne!(alice_west, TokenKey::new("alice").with_rules(east));
/// assert_ne!(alice_west, TokenKey::new("alice"));
/// assert_eq!(
///     west.as_json(),
///     r#"{"persist_option":"NONE","filter_rules":[{"column_name":"region","operator":"IN","values":["west","north"]}]}"#
/// );
/// ```
#[derive(Clone)]
pub struct TokenRules {
    // Shared: a key (and so its rules) is cloned on every cache lookup that stores it.
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    rules: Rules,
    json: String,
}

#[derive(Clone, Debug, Serialize)]
struct Rules {
    persist_option: PersistOption,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    filter_rules: Vec<FilterRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameter_values: Vec<NamedValues>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    variable_values: Vec<NamedValues>,
}

impl TokenRules {
    /// No rules yet, combined with the user's persisted rules as `persist` says.
    pub fn new(persist: PersistOption) -> Self {
        let mut rules = Self {
            inner: Arc::new(Inner {
                rules: Rules {
                    persist_option: persist,
                    filter_rules: Vec::new(),
                    parameter_values: Vec::new(),
                    variable_values: Vec::new(),
                },
                json: String::new(),
            }),
        };
        rules.rewrite();
        rules
    }

    /// Adds a filter rule (`filter_rules[]`).
    #[must_use]
    pub fn filter(mut self, rule: FilterRule) -> Self {
        Arc::make_mut(&mut self.inner).rules.filter_rules.push(rule);
        self.rewrite();
        self
    }

    /// Adds a parameter's values (`parameter_values[]`).
    #[must_use]
    pub fn parameter(mut self, values: NamedValues) -> Self {
        Arc::make_mut(&mut self.inner).rules.parameter_values.push(values);
        self.rewrite();
        self
    }

    /// Adds a variable's values (`variable_values[]`).
    #[must_use]
    pub fn variable(mut self, values: NamedValues) -> Self {
        Arc::make_mut(&mut self.inner).rules.variable_values.push(values);
        self.rewrite();
        self
    }

    /// How the rules combine with the user's persisted ones.
    pub fn persist_option(&self) -> PersistOption {
        self.inner.rules.persist_option
    }

    /// Whether there is no filter, parameter or variable.
    pub fn is_empty(&self) -> bool {
        let r = &self.inner.rules;
        r.filter_rules.is_empty() && r.parameter_values.is_empty() && r.variable_values.is_empty()
    }

    /// The rules as the request body writes them: what makes them one key or another (a
    /// shared store names a key's token by it).
    pub fn as_json(&self) -> &str {
        &self.inner.json
    }

    fn rewrite(&mut self) {
        let inner = Arc::make_mut(&mut self.inner);
        // Serialising these types cannot fail (string keys, no maps of other keys); a
        // non-finite number writes `null` here and is refused before sending.
        inner.json = serde_json::to_string(&inner.rules).unwrap_or_default();
    }
}

impl PartialEq for TokenRules {
    fn eq(&self, other: &Self) -> bool {
        self.inner.json == other.inner.json
    }
}

impl Eq for TokenRules {}

impl Hash for TokenRules {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.json.hash(state);
    }
}

impl fmt::Debug for TokenRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokenRules").field(&self.inner.json).finish()
    }
}

impl TokenRules {
    /// `request` with these rules' filters, parameter values and variable values.
    pub(super) fn apply(&self, mut request: GetCustomAccessTokenRequest) -> GetCustomAccessTokenRequest {
        let r = &self.inner.rules;
        if !r.filter_rules.is_empty() {
            request = request.with_filter_rules(r.filter_rules.iter().cloned());
        }
        if !r.parameter_values.is_empty() {
            request = request.with_parameter_values(r.parameter_values.iter().cloned());
        }
        if !r.variable_values.is_empty() {
            request = request.with_variable_values(r.variable_values.iter().cloned());
        }
        request
    }
}
