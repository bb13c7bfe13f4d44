//! `token/custom`: tokens with row-level rules (filters, parameters, persistence) and the
//! values the rules hold.

use super::token::TokenOptions;
use super::*;
use crate::error::InvalidRequest;
use crate::secret::{Password, SecretKey, serialize_exposed};
use serde::Serialize;
use std::time::Duration;

/// How a custom token's rules combine with those the user already has (`persist_option`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum PersistOption {
    /// Replace the persisted rules with these.
    Replace,
    /// Add these to the persisted rules.
    Append,
    /// Apply these to this token only.
    None,
    /// Clear the persisted rules.
    Reset,
}

/// A comparison of a filter rule or runtime filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)] // the names are the spec's operators
#[non_exhaustive]
pub enum FilterOperator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Bw,
    Contains,
    BeginsWith,
    EndsWith,
    BwInc,
    BwIncMin,
    BwIncMax,
    Like,
    NotIn,
}

/// A value of a filter rule, parameter or variable: a string, a boolean or a number.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum RuleValue {
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A floating-point number; a non-finite one (NaN, an infinity) has no JSON form and
    /// is refused before sending.
    Float(f64),
}

impl From<&str> for RuleValue {
    fn from(v: &str) -> Self {
        RuleValue::String(v.to_owned())
    }
}
impl From<String> for RuleValue {
    fn from(v: String) -> Self {
        RuleValue::String(v)
    }
}
impl From<bool> for RuleValue {
    fn from(v: bool) -> Self {
        RuleValue::Bool(v)
    }
}
impl From<i64> for RuleValue {
    fn from(v: i64) -> Self {
        RuleValue::Integer(v)
    }
}
impl From<i32> for RuleValue {
    fn from(v: i32) -> Self {
        RuleValue::Integer(v.into())
    }
}
impl From<f64> for RuleValue {
    fn from(v: f64) -> Self {
        RuleValue::Float(v)
    }
}

fn values<I, V>(values: I) -> Vec<RuleValue>
where
    I: IntoIterator<Item = V>,
    V: Into<RuleValue>,
{
    values.into_iter().map(Into::into).collect()
}

/// A row-level filter of a custom token (`filter_rules[]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FilterRule {
    column_name: String,
    operator: FilterOperator,
    values: Vec<RuleValue>,
}

impl FilterRule {
    /// `column_name operator values`.
    pub fn new<I, V>(column_name: impl Into<String>, operator: FilterOperator, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<RuleValue>,
    {
        Self {
            column_name: column_name.into(),
            operator,
            values: self::values(values),
        }
    }
}

/// A named value list of a custom token: a parameter (`parameter_values[]`) or a variable
/// (`variable_values[]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedValues {
    name: String,
    values: Vec<RuleValue>,
}

impl NamedValues {
    /// `name` with `values`.
    pub fn new<I, V>(name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<RuleValue>,
    {
        Self {
            name: name.into(),
            values: self::values(values),
        }
    }
}

/// An object rules are scoped to (`{"type": "LOGICAL_TABLE", "identifier": …}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    object_type: Option<&'static str>,
    identifier: String,
}

impl ObjectRef {
    /// An object by id or name, of no stated type.
    pub fn new(identifier: impl Into<String>) -> Self {
        Self {
            object_type: None,
            identifier: identifier.into(),
        }
    }

    /// A table or worksheet (`LOGICAL_TABLE`) by id or name.
    pub fn logical_table(identifier: impl Into<String>) -> Self {
        Self {
            object_type: Some("LOGICAL_TABLE"),
            identifier: identifier.into(),
        }
    }
}

/// A group of a custom token's JIT provisioning (`groups[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupRef {
    identifier: String,
}

impl GroupRef {
    /// A group by id or name.
    pub fn new(identifier: impl Into<String>) -> Self {
        Self {
            identifier: identifier.into(),
        }
    }
}

/// `POST /api/rest/2.0/auth/token/custom` (10.4.0.cl): a token carrying row-level rules
/// (ABAC). Sent with no `Authorization` header.
///
/// ```
/// use thoughtspot_session_core::v2::{
///     GetCustomAccessTokenRequest, GroupRef, NamedValues, PersistOption, RuleValue,
/// };
///
/// let values: [RuleValue; 3] = ["a".into(), 1.into(), true.into()];
/// let request = GetCustomAccessTokenRequest::with_secret_key("alice", "SK", PersistOption::Append)
///     .with_variable_values([NamedValues::new("v", values)])
///     .with_groups([GroupRef::new("g")]);
/// // Serialised for a log, the request shows its shape and hides the key (the client alone
/// // writes it in clear, into the body it sends).
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"username":"alice","secret_key":"[redacted]","persist_option":"APPEND","variable_values":[{"name":"v","values":["a",1,true]}],"groups":[{"identifier":"g"}]}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GetCustomAccessTokenRequest {
    username: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    password: Option<Password>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    secret_key: Option<SecretKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validity_time_in_sec: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_identifier: Option<String>,
    persist_option: PersistOption,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter_rules: Option<Vec<FilterRule>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter_values: Option<Vec<NamedValues>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variable_values: Option<Vec<NamedValues>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<GroupRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_create: Option<bool>,
}

impl GetCustomAccessTokenRequest {
    fn new(
        username: String,
        password: Option<Password>,
        secret_key: Option<SecretKey>,
        persist: PersistOption,
    ) -> Self {
        Self {
            username,
            password,
            secret_key,
            validity_time_in_sec: None,
            org_identifier: None,
            persist_option: persist,
            filter_rules: None,
            parameter_values: None,
            variable_values: None,
            objects: None,
            email: None,
            display_name: None,
            groups: None,
            auto_create: None,
        }
    }

    /// A custom token for `username`, authorised by the secret key; `persist` says how its
    /// rules combine with the user's persisted ones.
    pub fn with_secret_key(
        username: impl Into<String>,
        secret_key: impl Into<SecretKey>,
        persist: PersistOption,
    ) -> Self {
        Self::new(username.into(), None, Some(secret_key.into()), persist)
    }

    /// A custom token for `username`, authorised by the user's password.
    pub fn with_password(
        username: impl Into<String>,
        password: impl Into<Password>,
        persist: PersistOption,
    ) -> Self {
        Self::new(username.into(), Some(password.into()), None, persist)
    }

    /// Asks for a token lifetime (`validity_time_in_sec`, whole seconds rounded up).
    #[must_use]
    pub fn with_validity(mut self, lifetime: Duration) -> Self {
        self.validity_time_in_sec = Some(validity_secs(lifetime));
        self
    }

    /// The org, by id or name (`org_identifier`).
    #[must_use]
    pub fn with_org_identifier(mut self, org: impl Into<String>) -> Self {
        self.org_identifier = Some(org.into());
        self
    }

    /// Row-level filters.
    #[must_use]
    pub fn with_filter_rules(mut self, rules: impl IntoIterator<Item = FilterRule>) -> Self {
        self.filter_rules = Some(rules.into_iter().collect());
        self
    }

    /// Parameter values.
    #[must_use]
    pub fn with_parameter_values(mut self, values: impl IntoIterator<Item = NamedValues>) -> Self {
        self.parameter_values = Some(values.into_iter().collect());
        self
    }

    /// Variable values (10.14.0.cl; refused with `RESET` and `NONE`).
    #[must_use]
    pub fn with_variable_values(mut self, values: impl IntoIterator<Item = NamedValues>) -> Self {
        self.variable_values = Some(values.into_iter().collect());
        self
    }

    /// The objects the rules apply to.
    #[must_use]
    pub fn with_objects(mut self, objects: impl IntoIterator<Item = ObjectRef>) -> Self {
        self.objects = Some(objects.into_iter().collect());
        self
    }

    /// JIT provisioning: the user's email.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// JIT provisioning: the user's display name.
    #[must_use]
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// JIT provisioning: the user's groups.
    #[must_use]
    pub fn with_groups(mut self, groups: impl IntoIterator<Item = GroupRef>) -> Self {
        self.groups = Some(groups.into_iter().collect());
        self
    }

    /// JIT provisioning: create the user if needed (the cluster's default is `true` here).
    #[must_use]
    pub fn with_auto_create(mut self, auto_create: bool) -> Self {
        self.auto_create = Some(auto_create);
        self
    }

    /// The user the token is for.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password credential, if any.
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// The secret key credential, if any.
    pub fn secret_key(&self) -> Option<&SecretKey> {
        self.secret_key.as_ref()
    }

    /// How the rules persist.
    pub fn persist_option(&self) -> PersistOption {
        self.persist_option
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        non_empty("token/custom: username", &self.username)?;
        TokenOptions::credential(self.password.clone(), self.secret_key.clone()).validate("token/custom")?;
        positive_validity("token/custom", self.validity_time_in_sec)?;
        let rules = self.filter_rules.iter().flatten().flat_map(|r| r.values.iter());
        let named = [&self.parameter_values, &self.variable_values]
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|n| n.values.iter());
        if rules
            .chain(named)
            .any(|v| matches!(v, RuleValue::Float(f) if !f.is_finite()))
        {
            return Err(InvalidRequest::new(
                "token/custom: a rule value is not a finite number (NaN or infinite has no JSON form)",
            ));
        }
        if self.variable_values.is_some()
            && matches!(self.persist_option, PersistOption::Reset | PersistOption::None)
        {
            return Err(InvalidRequest::new(
                "token/custom: variable_values cannot go with persist_option RESET or NONE",
            ));
        }
        Ok(())
    }
}
