//! Secret newtypes: passwords, secret keys and tokens that never print.
//!
//! Each type wraps a [`secrecy::SecretString`], so its memory is zeroed on drop, its
//! `Debug` prints `[redacted]`, and the only way to read it is the explicit
//! [`secret()`](Password::secret) call. The types are distinct so that a password can never
//! be passed where a token is expected.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serializer};
use std::fmt;
use subtle::ConstantTimeEq;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// Reads the secret. Every read is explicit, so a reviewer can find them all.
            pub fn secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// `true` when the secret is the empty string.
            pub fn is_empty(&self) -> bool {
                self.secret().is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        /// Compares in time that depends on the length only, not on where the values differ.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                // Constant time in the contents (subtle); lengths may differ in time.
                bool::from(self.secret().as_bytes().ct_eq(other.secret().as_bytes()))
            }
        }

        impl Eq for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_type!(
    /// A user's password.
    ///
    /// ```
    /// use thoughtspot_session_core::Password;
    /// let p = Password::new("hunter2");
    /// assert_eq!(format!("{p:?}"), "Password([redacted])");
    /// assert_eq!(p.secret(), "hunter2");
    /// ```
    Password
);
secret_type!(
    /// The cluster's trusted-authentication secret key.
    ///
    /// ```
    /// use thoughtspot_session_core::SecretKey;
    /// let k = SecretKey::new("9e1f-…");
    /// assert_eq!(format!("{k:?}"), "SecretKey([redacted])");
    /// ```
    SecretKey
);
secret_type!(
    /// A bearer token issued by get token or login, sent as `Authorization: Bearer`.
    ///
    /// ```
    /// use thoughtspot_session_core::AccessToken;
    /// let t = AccessToken::new("eyJhbGciOi…");
    /// assert_eq!(format!("{t:?}"), "AccessToken([redacted])");
    /// ```
    AccessToken
);

std::thread_local! {
    /// Set while [`to_wire_json`] encodes a request body on this thread.
    static WIRE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What a secret field serialises to outside the wire encoding.
pub(crate) const REDACTED: &str = "[redacted]";

/// The JSON bytes of a request body as the cluster must receive them: secrets in clear.
/// Every other serialisation of a type holding a secret (`serde_json::to_string` for an
/// audit log, say) writes [`REDACTED`] in its place.
pub(crate) fn to_wire_json<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    /// Puts the flag back however serialisation ends (an error or a panic in a field).
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            WIRE.with(|w| w.set(self.0));
        }
    }
    let _restore = Restore(WIRE.with(|w| w.replace(true)));
    serde_json::to_vec(value)
}

fn on_the_wire() -> bool {
    WIRE.with(std::cell::Cell::get)
}

/// Serde helper for an optional secret: its value inside [`to_wire_json`], else
/// [`REDACTED`].
pub(crate) fn serialize_exposed<S, T>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Exposable,
{
    match value {
        Some(v) if on_the_wire() => serializer.serialize_str(v.exposed()),
        Some(_) => serializer.serialize_str(REDACTED),
        None => serializer.serialize_none(),
    }
}

/// Serde helper for a required secret: its value inside [`to_wire_json`], else
/// [`REDACTED`].
pub(crate) fn serialize_exposed_value<S, T>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Exposable,
{
    serializer.serialize_str(if on_the_wire() { value.exposed() } else { REDACTED })
}

/// The secret types that request bodies may write to the wire.
pub(crate) trait Exposable {
    fn exposed(&self) -> &str;
}

impl Exposable for Password {
    fn exposed(&self) -> &str {
        self.secret()
    }
}
impl Exposable for SecretKey {
    fn exposed(&self) -> &str {
        self.secret()
    }
}
impl Exposable for AccessToken {
    fn exposed(&self) -> &str {
        self.secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_equality_compares_values() {
        let a = Password::new("s3cret");
        assert_eq!(format!("{a:?}"), "Password([redacted])");
        assert_eq!(format!("{:#?}", Some(&a)), "Some(\n    Password([redacted]),\n)");
        assert_eq!(a, Password::new("s3cret"));
        assert_ne!(a, Password::new("s3cres"));
        assert_ne!(a, Password::new("s3cret!"));
        assert!(SecretKey::new("").is_empty());
    }
}
