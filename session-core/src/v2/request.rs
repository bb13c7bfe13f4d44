//! REST API v2.0 request bodies: snake_case keys in the spec's schema order, unset fields
//! omitted (never `null`), numbers as JSON numbers, secrets written only on the wire.

use crate::error::InvalidRequest;
use crate::secret::{AccessToken, Password, SecretKey, serialize_exposed};
use serde::Serialize;
use std::time::Duration;

/// Whole seconds of `lifetime`, rounded up, at most `i32::MAX` (the field is an int32).
fn validity_secs(lifetime: Duration) -> i32 {
    let secs = lifetime.as_secs() + u64::from(lifetime.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn non_empty(what: &str, value: &str) -> Result<(), InvalidRequest> {
    if value.trim().is_empty() {
        return Err(InvalidRequest::new(format!("{what} is empty")));
    }
    Ok(())
}

/// `POST /api/rest/2.0/auth/session/login`: a password login, or (with no fields) a login
/// with the client's bearer token, which turns it into a cookie session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LoginRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    password: Option<Password>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remember_me: Option<bool>,
}

impl LoginRequest {
    /// Logs in `username` with `password`.
    pub fn with_password(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self {
            username: Some(username.into()),
            password: Some(password.into()),
            ..Self::default()
        }
    }

    /// Logs in with the client's access token (sent as `Authorization: Bearer`); the body
    /// is `{}`.
    pub fn bearer() -> Self {
        Self::default()
    }

    /// The org to sign in to, by id or name (`org_identifier`).
    #[must_use]
    pub fn with_org_identifier(mut self, org: impl Into<String>) -> Self {
        self.org_identifier = Some(org.into());
        self
    }

    /// Keeps the session for about 7 days instead of 3 hours of inactivity (`remember_me`).
    #[must_use]
    pub fn with_remember_me(mut self, remember: bool) -> Self {
        self.remember_me = Some(remember);
        self
    }

    /// The user, when logging in by password.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The password, when logging in by password.
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// The org asked for.
    pub fn org_identifier(&self) -> Option<&str> {
        self.org_identifier.as_deref()
    }

    /// The `remember_me` flag, when set.
    pub fn remember_me(&self) -> Option<bool> {
        self.remember_me
    }

    /// `true` when the bearer token is meant (no user, no password).
    pub fn is_bearer(&self) -> bool {
        self.username.is_none() && self.password.is_none()
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        match (&self.username, &self.password) {
            (None, None) => Ok(()),
            (Some(u), Some(p)) if !u.trim().is_empty() && !p.is_empty() => Ok(()),
            _ => Err(InvalidRequest::new(
                "login: a password login needs a non-empty username and password",
            )),
        }
    }
}

/// The JIT provisioning and lifetime fields that full and object token requests share, in
/// their schema order after `username` (and `object_id`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
struct TokenOptions {
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    password: Option<Password>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    secret_key: Option<SecretKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validity_time_in_sec: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_create: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_identifiers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_parameters: Option<UserParameterOptions>,
}

impl TokenOptions {
    fn credential(password: Option<Password>, secret_key: Option<SecretKey>) -> Self {
        Self {
            password,
            secret_key,
            ..Self::default()
        }
    }

    fn validate(&self, operation: &str) -> Result<(), InvalidRequest> {
        let password = self.password.as_ref().is_some_and(|p| !p.is_empty());
        let key = self.secret_key.as_ref().is_some_and(|k| !k.is_empty());
        if !password && !key {
            return Err(InvalidRequest::new(format!(
                "{operation}: needs a non-empty password or secret_key"
            )));
        }
        Ok(())
    }
}

/// Setters and getters of the fields full and object token requests share.
macro_rules! token_options {
    ($name:ident) => {
        impl $name {
            /// Asks for a token lifetime (`validity_time_in_sec`; whole seconds, rounded up;
            /// the cluster's default is 300 s).
            #[must_use]
            pub fn with_validity(mut self, lifetime: Duration) -> Self {
                self.options.validity_time_in_sec = Some(validity_secs(lifetime));
                self
            }

            /// The org the token is for (`org_id`, an integer).
            #[must_use]
            pub fn with_org_id(mut self, org_id: i32) -> Self {
                self.options.org_id = Some(org_id);
                self
            }

            /// JIT provisioning: the user's email.
            #[must_use]
            pub fn with_email(mut self, email: impl Into<String>) -> Self {
                self.options.email = Some(email.into());
                self
            }

            /// JIT provisioning: the user's display name.
            #[must_use]
            pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
                self.options.display_name = Some(name.into());
                self
            }

            /// JIT provisioning: create the user if it does not exist (needs the secret
            /// key; the cluster's default is `false`).
            #[must_use]
            pub fn with_auto_create(mut self, auto_create: bool) -> Self {
                self.options.auto_create = Some(auto_create);
                self
            }

            /// JIT provisioning: the groups to put the user in, by id or name.
            #[must_use]
            pub fn with_group_identifiers<I, G>(mut self, groups: I) -> Self
            where
                I: IntoIterator<Item = G>,
                G: Into<String>,
            {
                self.options.group_identifiers = Some(groups.into_iter().map(Into::into).collect());
                self
            }

            /// Runtime filters, sorts and parameters bound to the token (`user_parameters`,
            /// deprecated by the cluster from 10.4.0.cl in favour of custom tokens).
            #[must_use]
            pub fn with_user_parameters(mut self, parameters: UserParameterOptions) -> Self {
                self.options.user_parameters = Some(parameters);
                self
            }

            /// The user the token is for.
            pub fn username(&self) -> &str {
                &self.username
            }

            /// The password credential, if any.
            pub fn password(&self) -> Option<&Password> {
                self.options.password.as_ref()
            }

            /// The secret key credential, if any.
            pub fn secret_key(&self) -> Option<&SecretKey> {
                self.options.secret_key.as_ref()
            }

            /// The lifetime asked for, in seconds.
            pub fn validity(&self) -> Option<Duration> {
                self.options
                    .validity_time_in_sec
                    .and_then(|s| u64::try_from(s).ok())
                    .map(Duration::from_secs)
            }

            /// The org asked for.
            pub fn org_id(&self) -> Option<i32> {
                self.options.org_id
            }
        }
    };
}

/// `POST /api/rest/2.0/auth/token/full`: a token with the user's full access. Sent with no
/// `Authorization` header.
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::v2::GetFullAccessTokenRequest;
///
/// let request = GetFullAccessTokenRequest::with_secret_key("alice", "SK")
///     .with_validity(Duration::from_secs(600))
///     .with_org_id(3);
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"username":"alice","secret_key":"SK","validity_time_in_sec":600,"org_id":3}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GetFullAccessTokenRequest {
    username: String,
    #[serde(flatten)]
    options: TokenOptions,
}

impl GetFullAccessTokenRequest {
    /// A token for `username`, authorised by the trusted-authentication secret key.
    pub fn with_secret_key(username: impl Into<String>, secret_key: impl Into<SecretKey>) -> Self {
        Self {
            username: username.into(),
            options: TokenOptions::credential(None, Some(secret_key.into())),
        }
    }

    /// A token for `username`, authorised by the user's password.
    pub fn with_password(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self {
            username: username.into(),
            options: TokenOptions::credential(Some(password.into()), None),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        non_empty("token/full: username", &self.username)?;
        self.options.validate("token/full")
    }
}

token_options!(GetFullAccessTokenRequest);

/// `POST /api/rest/2.0/auth/token/object`: a token that opens one object (a Liveboard or
/// an Answer) only. Sent with no `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GetObjectAccessTokenRequest {
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_id: Option<String>,
    #[serde(flatten)]
    options: TokenOptions,
}

impl GetObjectAccessTokenRequest {
    /// A token for `username` on the object `object_id` (its GUID), authorised by the
    /// trusted-authentication secret key.
    pub fn with_secret_key(
        username: impl Into<String>,
        object_id: impl Into<String>,
        secret_key: impl Into<SecretKey>,
    ) -> Self {
        Self {
            username: username.into(),
            object_id: Some(object_id.into()),
            options: TokenOptions::credential(None, Some(secret_key.into())),
        }
    }

    /// A token for `username` on `object_id`, authorised by the user's password.
    pub fn with_password(
        username: impl Into<String>,
        object_id: impl Into<String>,
        password: impl Into<Password>,
    ) -> Self {
        Self {
            username: username.into(),
            object_id: Some(object_id.into()),
            options: TokenOptions::credential(Some(password.into()), None),
        }
    }

    /// The object the token opens.
    pub fn object_id(&self) -> Option<&str> {
        self.object_id.as_deref()
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        non_empty("token/object: username", &self.username)?;
        non_empty("token/object: object_id", self.object_id.as_deref().unwrap_or(""))?;
        self.options.validate("token/object")
    }
}

token_options!(GetObjectAccessTokenRequest);

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
    /// A floating-point number (a non-finite one is written as `null`).
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
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"username":"alice","secret_key":"SK","persist_option":"APPEND","variable_values":[{"name":"v","values":["a",1,true]}],"groups":[{"identifier":"g"}]}"#
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

/// Runtime filters, sorts and parameters of a full or object token (`user_parameters`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UserParameterOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_filters: Option<Vec<RuntimeFilter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_sorts: Option<Vec<RuntimeSort>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Vec<RuntimeParameter>>,
}

impl UserParameterOptions {
    /// No options yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The objects the options apply to.
    #[must_use]
    pub fn with_objects(mut self, objects: impl IntoIterator<Item = ObjectRef>) -> Self {
        self.objects = Some(objects.into_iter().collect());
        self
    }

    /// Runtime filters.
    #[must_use]
    pub fn with_runtime_filters(mut self, filters: impl IntoIterator<Item = RuntimeFilter>) -> Self {
        self.runtime_filters = Some(filters.into_iter().collect());
        self
    }

    /// Runtime sorts.
    #[must_use]
    pub fn with_runtime_sorts(mut self, sorts: impl IntoIterator<Item = RuntimeSort>) -> Self {
        self.runtime_sorts = Some(sorts.into_iter().collect());
        self
    }

    /// Runtime parameters.
    #[must_use]
    pub fn with_parameters(mut self, parameters: impl IntoIterator<Item = RuntimeParameter>) -> Self {
        self.parameters = Some(parameters.into_iter().collect());
        self
    }
}

/// A runtime filter of `user_parameters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeFilter {
    column_name: String,
    values: Vec<String>,
    operator: FilterOperator,
    #[serde(skip_serializing_if = "Option::is_none")]
    persist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
}

impl RuntimeFilter {
    /// `column_name operator values`.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(
        column_name: impl Into<String>,
        operator: FilterOperator,
        values: I,
    ) -> Self {
        Self {
            column_name: column_name.into(),
            values: values.into_iter().map(Into::into).collect(),
            operator,
            persist: None,
            objects: None,
        }
    }

    /// Keeps the filter beyond this token.
    #[must_use]
    pub fn with_persist(mut self, persist: bool) -> Self {
        self.persist = Some(persist);
        self
    }
}

/// Sort order of a runtime sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A runtime sort of `user_parameters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeSort {
    #[serde(skip_serializing_if = "Option::is_none")]
    column_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<SortOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    persist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
}

impl RuntimeSort {
    /// Sorts by `column_name` in `order`.
    pub fn new(column_name: impl Into<String>, order: SortOrder) -> Self {
        Self {
            column_name: Some(column_name.into()),
            order: Some(order),
            persist: None,
            objects: None,
        }
    }
}

/// A runtime parameter of `user_parameters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeParameter {
    name: String,
    values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    persist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
}

impl RuntimeParameter {
    /// Parameter `name` set to `values`.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(name: impl Into<String>, values: I) -> Self {
        Self {
            name: name.into(),
            values: values.into_iter().map(Into::into).collect(),
            persist: None,
            objects: None,
        }
    }
}

/// `POST /api/rest/2.0/auth/token/revoke`: revokes a token, or a user's tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RevokeTokenRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    token: Option<AccessToken>,
}

impl RevokeTokenRequest {
    /// Revokes `token`.
    pub fn token(token: impl Into<AccessToken>) -> Self {
        Self {
            user_identifier: None,
            token: Some(token.into()),
        }
    }

    /// Revokes the tokens of a user, by id or name.
    pub fn user(user_identifier: impl Into<String>) -> Self {
        Self {
            user_identifier: Some(user_identifier.into()),
            token: None,
        }
    }

    /// Also names the user the token belongs to.
    #[must_use]
    pub fn with_user_identifier(mut self, user: impl Into<String>) -> Self {
        self.user_identifier = Some(user.into());
        self
    }

    /// The token to revoke, if given.
    pub fn revoked_token(&self) -> Option<&AccessToken> {
        self.token.as_ref()
    }

    /// The user whose tokens are revoked, if given.
    pub fn user_identifier(&self) -> Option<&str> {
        self.user_identifier.as_deref()
    }
}

/// `POST /api/rest/2.0/auth/token/validate`: checks a token (the caller must be
/// authenticated itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidateTokenRequest {
    #[serde(serialize_with = "crate::secret::serialize_exposed_value")]
    token: AccessToken,
}

impl ValidateTokenRequest {
    /// Validates `token`.
    pub fn new(token: impl Into<AccessToken>) -> Self {
        Self { token: token.into() }
    }

    /// The token to validate.
    pub fn token(&self) -> &AccessToken {
        &self.token
    }
}

/// The only auth type the settings endpoints know.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum AuthType {
    /// Trusted authentication.
    #[default]
    TrustedAuth,
}

/// Whether trusted authentication is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum AuthStatus {
    /// On.
    Enabled,
    /// Off.
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct ClusterPreferencesInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_status: Option<AuthStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct OrgPreferenceInput {
    org_identifier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_status: Option<AuthStatus>,
}

/// `POST /api/rest/2.0/auth/configure` (26.6.0.cl): turns trusted authentication on or off
/// for the cluster and for orgs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConfigureAuthSettingsRequest {
    auth_type: AuthType,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_preferences: Option<ClusterPreferencesInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_preferences: Option<Vec<OrgPreferenceInput>>,
}

impl ConfigureAuthSettingsRequest {
    /// Trusted authentication, nothing changed yet.
    pub fn trusted_auth() -> Self {
        Self::default()
    }

    /// Sets the cluster's status.
    #[must_use]
    pub fn with_cluster_status(mut self, status: AuthStatus) -> Self {
        self.cluster_preferences = Some(ClusterPreferencesInput {
            auth_status: Some(status),
        });
        self
    }

    /// Sets an org's status (org by id or name); call once per org.
    #[must_use]
    pub fn with_org_status(mut self, org_identifier: impl Into<String>, status: AuthStatus) -> Self {
        self.org_preferences
            .get_or_insert_with(Vec::new)
            .push(OrgPreferenceInput {
                org_identifier: org_identifier.into(),
                auth_status: Some(status),
            });
        self
    }
}

/// Which settings a search reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SettingsScope {
    /// The cluster's.
    Cluster,
    /// The orgs'.
    Org,
}

/// `POST /api/rest/2.0/auth/search` (26.6.0.cl): reads the trusted-authentication settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SearchAuthSettingsRequest {
    auth_type: AuthType,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<SettingsScope>,
}

impl SearchAuthSettingsRequest {
    /// Trusted authentication, every scope.
    pub fn trusted_auth() -> Self {
        Self::default()
    }

    /// Only `scope`.
    #[must_use]
    pub fn with_scope(mut self, scope: SettingsScope) -> Self {
        self.scope = Some(scope);
        self
    }
}
