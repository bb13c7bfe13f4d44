//! `configure` and `search`: the trusted-authentication settings.

use serde::Serialize;

/// The auth type of a settings answer or request. A value a newer cluster adds is kept as
/// [`Other`](Self::Other), so that reading the settings never fails on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthType {
    /// Trusted authentication (`TRUSTED_AUTH`).
    #[default]
    TrustedAuth,
    /// A value this version does not know, as the cluster wrote it.
    Other(String),
}

/// Whether trusted authentication is on. A value a newer cluster adds is kept as
/// [`Other`](Self::Other).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthStatus {
    /// On (`ENABLED`).
    Enabled,
    /// Off (`DISABLED`).
    Disabled,
    /// A value this version does not know, as the cluster wrote it.
    Other(String),
}

/// Serde for an enum of known wire strings with an `Other(String)` for the rest.
macro_rules! open_enum {
    ($name:ident { $($variant:ident = $wire:literal),* $(,)? }) => {
        impl $name {
            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(s) => s,
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Ok(match s.as_str() {
                    $($wire => Self::$variant,)*
                    _ => Self::Other(s),
                })
            }
        }
    };
}

open_enum!(AuthType { TrustedAuth = "TRUSTED_AUTH" });
open_enum!(AuthStatus { Enabled = "ENABLED", Disabled = "DISABLED" });

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
