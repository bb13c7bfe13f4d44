//! `configure` and `search`: the trusted-authentication settings.

use serde::Serialize;

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
