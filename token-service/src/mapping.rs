//! From verified claims to what the cluster sees: the user, org, groups and ABAC rules of
//! a [`TokenKey`].

use crate::config::{ConfigError, MappingConfig, RuleConfig, WhenMissing, operator};
use serde_json::{Map, Value};
use thoughtspot_session_core::v2::{FilterOperator, FilterRule, NamedValues, PersistOption, RuleValue};
use thoughtspot_session_core::{TokenKey, TokenRules};

/// The most groups or rule values one claim may bring; more is refused, not cut.
pub const MAX_CLAIM_VALUES: usize = 100;
/// The longest user name, org, group or rule value taken from a claim, in bytes.
pub const MAX_CLAIM_LEN: usize = 512;

/// Why a verified caller gets no token (answered 403): its claims name no cluster user, or
/// lack what the configuration needs to bound what it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    /// A short code for the answer and the metrics.
    pub code: &'static str,
    /// What is wrong, naming claims but never their values.
    pub message: String,
}

impl Unmapped {
    fn new(message: impl Into<String>) -> Self {
        Self {
            code: "unmapped_user",
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Unmapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the service makes of a verified caller's claims, once per ID token.
#[derive(Clone, Debug)]
pub struct Mapped {
    /// The key of the caller's ThoughtSpot token.
    pub key: TokenKey,
    /// The caller's rate-limit key (the cluster user).
    pub limit_key: String,
}

/// A mapping's outcome, kept with the verified token.
pub type MapResult = Result<std::sync::Arc<Mapped>, Unmapped>;

/// The mapping, checked at start.
#[derive(Clone, Debug)]
pub struct Mapping {
    config: MappingConfig,
    persist: PersistOption,
    rules: Vec<(RuleConfig, Option<FilterOperator>)>,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn bounded(what: &str, value: String) -> Result<String, Unmapped> {
    if value.trim().is_empty() || value.len() > MAX_CLAIM_LEN {
        return Err(Unmapped::new(format!(
            "the {what} claim is empty or longer than {MAX_CLAIM_LEN} bytes"
        )));
    }
    Ok(value)
}

fn values(claim: &str, v: &Value) -> Result<Vec<RuleValue>, Unmapped> {
    let one = |v: &Value| -> Result<RuleValue, Unmapped> {
        match v {
            Value::String(s) => Ok(RuleValue::String(bounded(claim, s.clone())?)),
            Value::Bool(b) => Ok(RuleValue::Bool(*b)),
            Value::Number(n) => Ok(match n.as_i64() {
                Some(i) => RuleValue::Integer(i),
                None => RuleValue::Float(n.as_f64().unwrap_or_default()),
            }),
            _ => Err(Unmapped::new(format!(
                "the {claim} claim holds a value a rule cannot take"
            ))),
        }
    };
    match v {
        Value::Array(items) if items.len() > MAX_CLAIM_VALUES => Err(Unmapped::new(format!(
            "the {claim} claim holds more than {MAX_CLAIM_VALUES} values"
        ))),
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

impl Mapping {
    /// Checks the mapping and the rules.
    pub fn new(config: MappingConfig, abac: &crate::config::AbacConfig) -> Result<Self, ConfigError> {
        let persist = abac.persist()?;
        let rules = abac
            .rules
            .iter()
            .map(|r| {
                Ok((
                    r.clone(),
                    r.column.as_ref().map(|_| operator(&r.operator)).transpose()?,
                ))
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Self {
            config,
            persist,
            rules,
        })
    }

    /// [`key`](Self::key) with the rate-limit key beside it.
    pub fn map(&self, claims: &Map<String, Value>) -> MapResult {
        let key = self.key(claims)?;
        let limit_key = key.user().to_owned();
        Ok(std::sync::Arc::new(Mapped { key, limit_key }))
    }

    /// Whether a group named by the groups claim may pass: listed exactly, or under a
    /// listed prefix ending in `*`.
    fn group_allowed(&self, group: &str) -> bool {
        self.config
            .groups_allowed
            .iter()
            .any(|allowed| match allowed.strip_suffix('*') {
                Some(prefix) => group.starts_with(prefix),
                None => group == allowed,
            })
    }

    /// The token key of a verified caller: who the cluster sees, in which org and groups,
    /// under which rules. Every part comes from the verified claims or the configuration.
    pub fn key(&self, claims: &Map<String, Value>) -> Result<TokenKey, Unmapped> {
        let c = &self.config;
        let user = claims.get(&c.user_claim).and_then(text).ok_or_else(|| {
            Unmapped::new(format!(
                "the token has no {} claim to name a ThoughtSpot user",
                c.user_claim
            ))
        })?;
        if c.user_claim == "email"
            && c.require_email_verified
            && !matches!(claims.get("email_verified"), Some(Value::Bool(true)))
            && claims.get("email_verified").and_then(Value::as_str) != Some("true")
        {
            return Err(Unmapped {
                code: "email_not_verified",
                message: "the token's email is not verified by the identity provider (email_verified is not true): an unverified email names no user".into(),
            });
        }
        let mut key = TokenKey::new(bounded(&c.user_claim, user)?);
        let org = match &c.org_claim {
            Some(claim) => match claims.get(claim) {
                Some(v) => Some(bounded(claim, text(v).unwrap_or_default())?),
                None => c.org.clone(),
            },
            None => c.org.clone(),
        };
        if let Some(org) = org {
            // A claim naming an org outside the allowed ones gets no token: with several
            // tenants, that is how one tenant's callers never reach another's org.
            if c.org_claim.is_some() && !c.orgs_allowed.is_empty() && !c.orgs().contains(&org.as_str()) {
                return Err(Unmapped {
                    code: "org_not_allowed",
                    message: "the token names an org this identity provider may not sign in to".into(),
                });
            }
            key = key.with_org_id(org);
        } else if !c.orgs_allowed.is_empty() {
            return Err(Unmapped {
                code: "org_not_allowed",
                message:
                    "the token names no org, and this identity provider's callers must name one of its orgs"
                        .into(),
            });
        }
        let mut groups = c.groups.clone();
        if let Some(claim) = &c.groups_claim {
            let named: &[Value] = match claims.get(claim) {
                None => &[],
                Some(Value::Array(items)) if items.len() > MAX_CLAIM_VALUES => {
                    return Err(Unmapped::new(format!(
                        "the {claim} claim holds more than {MAX_CLAIM_VALUES} groups"
                    )));
                }
                Some(Value::Array(items)) => items,
                Some(one @ Value::String(_)) => std::slice::from_ref(one),
                Some(_) => return Err(Unmapped::new(format!("the {claim} claim is not a group list"))),
            };
            for item in named {
                let Value::String(g) = item else {
                    return Err(Unmapped::new(format!(
                        "the {claim} claim holds a group that is not a string"
                    )));
                };
                let g = bounded(claim, g.clone())?;
                if self.group_allowed(&g) {
                    groups.push(g);
                }
            }
        }
        if !groups.is_empty() {
            key = key.with_groups(groups);
        }
        let mut rules = TokenRules::new(self.persist);
        for (rule, op) in &self.rules {
            // Absent, null, "" and [] all mean the provider said nothing of this rule.
            let value = claims.get(&rule.claim).filter(|v| match v {
                Value::Null => false,
                Value::String(s) => !s.trim().is_empty(),
                Value::Array(items) => !items.is_empty(),
                _ => true,
            });
            let Some(value) = value else {
                match rule.when_missing {
                    WhenMissing::Skip => continue,
                    _ => {
                        return Err(Unmapped {
                            code: "missing_rule_claim",
                            message: format!(
                                "the token has no {} claim, which a row-level rule needs: no token without it",
                                rule.claim
                            ),
                        });
                    }
                }
            };
            let values = values(&rule.claim, value)?;
            rules = match (&rule.column, &rule.parameter, op) {
                (Some(column), _, Some(op)) => rules.filter(FilterRule::new(column.as_str(), *op, values)),
                (_, Some(name), _) => rules.parameter(NamedValues::new(name.as_str(), values)),
                _ => rules,
            };
        }
        if !rules.is_empty() {
            key = key.with_rules(rules);
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping() -> Mapping {
        let config = crate::config::Config::from_toml(crate::SAMPLE_CONFIG).unwrap();
        Mapping::new(config.mapping, &config.abac).unwrap()
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn claims_make_the_user_org_groups_and_rules() {
        let key = mapping()
            .key(&claims(
                json!({"email": "bob@example.com", "email_verified": true, "ts_org": 7,
                "groups": ["sales", "emea-west", "admins", "emea"],
                "region": ["west", "north"], "tier": "gold"}),
            ))
            .unwrap();
        assert_eq!(key.user(), "bob@example.com");
        assert_eq!(key.org_id(), Some("7"));
        assert_eq!(
            key.groups(),
            ["emea-west", "sales"],
            "only the allowed groups pass"
        );
        assert_eq!(
            key.rules().unwrap().as_json(),
            r#"{"persist_option":"NONE","filter_rules":[{"column_name":"Region","operator":"IN","values":["west","north"]}],"parameter_values":[{"name":"Tier","values":["gold"]}]}"#
        );
        // Without the tier claim (its rule says skip): the region rule alone.
        let west = mapping()
            .key(&claims(
                json!({"email": "a@x", "email_verified": true, "region": "west"}),
            ))
            .unwrap();
        assert!(!west.rules().unwrap().as_json().contains("Tier"));
    }

    #[test]
    fn a_missing_rule_claim_or_an_unverified_email_is_no_token() {
        let m = mapping();
        for region in [
            None,
            Some(json!(null)),
            Some(json!("")),
            Some(json!("  ")),
            Some(json!([])),
        ] {
            let mut c = claims(json!({"email": "a@x", "email_verified": true}));
            if let Some(region) = &region {
                c.insert("region".into(), region.clone());
            }
            let e = m.key(&c).unwrap_err();
            assert_eq!(e.code, "missing_rule_claim", "region {region:?}");
            assert!(e.message.contains("region"), "{e}");
        }
        for verified in [None, Some(json!(false)), Some(json!("false")), Some(json!(1))] {
            let mut c = claims(json!({"email": "a@x", "region": "west"}));
            if let Some(v) = &verified {
                c.insert("email_verified".into(), v.clone());
            }
            assert_eq!(m.key(&c).unwrap_err().code, "email_not_verified", "{verified:?}");
        }
        // The string form some providers send.
        m.key(&claims(
            json!({"email": "a@x", "email_verified": "true", "region": "west"}),
        ))
        .unwrap();
        // A rule that says skip lets a caller without its claim through, to a full token.
        let mut config = crate::config::Config::from_toml(crate::SAMPLE_CONFIG).unwrap();
        config.abac.rules[0].when_missing = crate::config::WhenMissing::Skip;
        let skipping = Mapping::new(config.mapping, &config.abac).unwrap();
        let plain = skipping
            .key(&claims(json!({"email": "a@x", "email_verified": true})))
            .unwrap();
        assert!(!plain.is_shaped());
        // With `sub` as the user, no verification flag is asked.
        let mut config = crate::config::Config::from_toml(crate::SAMPLE_CONFIG).unwrap();
        config.mapping.user_claim = "sub".into();
        let by_sub = Mapping::new(config.mapping, &config.abac).unwrap();
        assert_eq!(
            by_sub
                .key(&claims(json!({"sub": "u-1", "region": "west"})))
                .unwrap()
                .user(),
            "u-1"
        );
    }

    #[test]
    fn missing_or_hostile_claims_are_refused_not_guessed() {
        let m = mapping();
        assert!(
            m.key(&claims(json!({"sub": "x"})))
                .unwrap_err()
                .message
                .contains("email")
        );
        assert!(
            m.key(&claims(json!({"email": "", "email_verified": true})))
                .is_err()
        );
        assert!(
            m.key(&claims(json!({"email": "a".repeat(600), "email_verified": true})))
                .is_err()
        );
        let many: Vec<_> = (0..101).map(|n| n.to_string()).collect();
        assert!(
            m.key(&claims(
                json!({"email": "a@x", "email_verified": true, "region": many})
            ))
            .is_err()
        );
        assert!(
            m.key(&claims(
                json!({"email": "a@x", "email_verified": true, "region": "w", "groups": [{"x": 1}]})
            ))
            .is_err()
        );
        assert!(
            m.key(&claims(
                json!({"email": "a@x", "email_verified": true, "region": {"x": 1}})
            ))
            .is_err()
        );
    }
}
