//! Decoding helpers for the places where clusters are loose about types.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Values at or above this are epoch milliseconds; below it, seconds.
///
/// 10^11 milliseconds is March 1973 and 10^11 seconds is year 5138, so the two readings
/// cannot be confused for any real timestamp or lifetime.
pub(crate) const EPOCH_MILLIS_THRESHOLD: u64 = 100_000_000_000;

/// Reads an instant given either in epoch milliseconds or in epoch seconds.
pub(crate) fn instant_from_epoch(raw: u64) -> Option<SystemTime> {
    let since_epoch = if raw >= EPOCH_MILLIS_THRESHOLD {
        Duration::from_millis(raw)
    } else {
        Duration::from_secs(raw)
    };
    UNIX_EPOCH.checked_add(since_epoch)
}

/// Reads a whole number that a cluster sent as a JSON number or as a string.
///
/// `null`, `""`, `"-1"`, any negative number and anything that is not a number are absent.
/// Fractions are truncated.
pub(crate) fn number_from_value(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        serde_json::Value::String(s) => number_from_str(s),
        _ => None,
    }
}

fn number_from_str(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
        .map(|f| f as u64)
}

/// `deserialize_with` for an optional whole number sent as a number or a string.
pub(crate) fn de_opt_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number or a string holding one")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok((v.is_finite() && v >= 0.0).then_some(v as u64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(number_from_str(v))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(V)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_option(V)
}

/// `serialize_with` for an optional whole number that the wire carries as a string.
pub(crate) fn ser_opt_number_as_string<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(itoa::Buffer::new().format(*v)),
        None => s.serialize_none(),
    }
}

/// `deserialize_with` for an optional string where `""`, `null` and any non-string mean
/// absent. Reads the string straight from the input (no intermediate JSON value).
pub(crate) fn de_non_empty_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok((!v.is_empty()).then(|| v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok((!v.is_empty()).then_some(v))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(V)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_option(V)
}

/// `deserialize_with` for an optional string that may come as a number (e.g. `orgId`).
pub(crate) fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// `deserialize_with` for an optional boolean that may come as `"true"` / `"false"`.
pub(crate) fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::String(s)) => match s.trim() {
            t if t.eq_ignore_ascii_case("true") => Some(true),
            t if t.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct N {
        #[serde(default, deserialize_with = "de_opt_number")]
        n: Option<u64>,
    }

    fn n(json: &str) -> Option<u64> {
        serde_json::from_str::<N>(json).map(|v| v.n).expect("decodes")
    }

    #[test]
    fn numbers_come_as_strings_or_numbers_and_minus_one_or_empty_is_absent() {
        assert_eq!(n(r#"{"n": "1648051501240"}"#), Some(1_648_051_501_240));
        assert_eq!(n(r#"{"n": 1648051501240}"#), Some(1_648_051_501_240));
        assert_eq!(n(r#"{"n": " 300 "}"#), Some(300));
        assert_eq!(n(r#"{"n": 300.7}"#), Some(300));
        assert_eq!(n(r#"{"n": "-1"}"#), None);
        assert_eq!(n(r#"{"n": -1}"#), None);
        assert_eq!(n(r#"{"n": ""}"#), None);
        assert_eq!(n(r#"{"n": null}"#), None);
        assert_eq!(n(r#"{"n": "soon"}"#), None);
        assert_eq!(n(r#"{"n": [1]}"#), None);
        assert_eq!(n(r#"{}"#), None);
    }

    #[test]
    fn instants_in_seconds_or_millis() {
        let ms = instant_from_epoch(1_648_051_501_240).expect("in range");
        let s = instant_from_epoch(1_648_051_501).expect("in range");
        assert_eq!(
            ms.duration_since(s).expect("ms later"),
            Duration::from_millis(240)
        );
    }
}
