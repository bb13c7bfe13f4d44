//! Tokens sealed with ChaCha20-Poly1305 under the application's keys, with rotation.

use base64::Engine;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use secrecy::{ExposeSecret, SecretBox};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thoughtspot_session_core::{AccessToken, ConfigError, ManagedToken};
use zeroize::Zeroizing;

/// The format byte of a sealed value: a value with another first byte is foreign.
const FORMAT: u8 = 1;
const NONCE: usize = 12;
const TAG: usize = 16;
/// Format, key id, nonce; then the sealed token and its tag.
const HEADER: usize = 2 + NONCE;

/// A 256-bit key that seals tokens at rest, known by a one-byte id that is written beside
/// each value, so that a value sealed under an older key still opens after a rotation.
/// Its `Debug` shows the id only.
///
/// ```
/// use thoughtspot_session_redis::EncryptionKey;
///
/// // `openssl rand -base64 32` makes such a key.
/// let key = EncryptionKey::from_base64(2, "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
/// assert_eq!(key.id(), 2);
/// assert_eq!(format!("{key:?}"), "EncryptionKey { id: 2, key: [redacted], open_only: false }");
/// assert!(EncryptionKey::from_base64(3, "too short").is_err());
/// ```
pub struct EncryptionKey {
    id: u8,
    key: SecretBox<[u8; 32]>,
    open_only: bool,
}

impl EncryptionKey {
    /// The key `bytes`, known by `id`.
    pub fn new(id: u8, bytes: [u8; 32]) -> Self {
        Self {
            id,
            key: SecretBox::new(Box::new(bytes)),
            open_only: false,
        }
    }

    /// The same key, used only to open values, never to seal: the first phase of a
    /// rotation. Deploy the new key open-only on every replica first, then make it the
    /// sealing key: no replica ever meets a value it cannot open.
    #[must_use]
    pub fn open_only(mut self) -> Self {
        self.open_only = true;
        self
    }

    /// Whether the key only opens.
    pub fn is_open_only(&self) -> bool {
        self.open_only
    }

    /// The key's bytes, for deriving the naming key.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        self.key.expose_secret()
    }

    /// The key written in standard base64 (32 bytes: 44 characters with padding).
    pub fn from_base64(id: u8, text: &str) -> Result<Self, ConfigError> {
        // The decoded key material is zeroed when dropped, here and on every error path.
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| ConfigError::new("an encryption key is not valid base64"))?,
        );
        let mut bytes = Zeroizing::new([0u8; 32]);
        if decoded.len() != bytes.len() {
            return Err(ConfigError::new("an encryption key must be 32 bytes (256 bits)"));
        }
        bytes.copy_from_slice(&decoded);
        Ok(Self::new(id, *bytes))
    }

    /// Keys written as `id:base64`, separated by commas; the first that is not open-only
    /// seals; `id:base64:open` marks a key open-only: `3:q83v…:open,2:AAEC…` (the form the
    /// example service reads from its environment).
    pub fn parse_list(text: &str) -> Result<Vec<Self>, ConfigError> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| {
                let part = part.trim();
                let (part, open_only) = match part.strip_suffix(":open") {
                    Some(rest) => (rest, true),
                    None => (part, false),
                };
                let (id, key) = part
                    .split_once(':')
                    .ok_or_else(|| ConfigError::new("an encryption key must be written id:base64[:open]"))?;
                let id = id
                    .trim()
                    .parse::<u8>()
                    .map_err(|_| ConfigError::new("an encryption key's id must be a number from 0 to 255"))?;
                let key = Self::from_base64(id, key)?;
                Ok(if open_only { key.open_only() } else { key })
            })
            .collect()
    }

    /// The id written beside each value it seals.
    pub fn id(&self) -> u8 {
        self.id
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .field("key", &format_args!("[redacted]"))
            .field("open_only", &self.open_only)
            .finish()
    }
}

/// The key that seals and every key that still opens.
pub(crate) struct Keyring {
    sealing: (u8, ChaCha20Poly1305),
    opening: Vec<(u8, ChaCha20Poly1305)>,
}

impl Keyring {
    /// The first key that is not open-only seals; all open. At least one sealing key, ids
    /// distinct.
    pub(crate) fn new(keys: &[EncryptionKey]) -> Result<Self, ConfigError> {
        if keys.is_empty() {
            return Err(ConfigError::new("the Redis token store needs an encryption key"));
        }
        let Some(first) = keys.iter().find(|k| !k.open_only) else {
            return Err(ConfigError::new(
                "every encryption key is open-only: one must seal (the first not marked :open)",
            ));
        };
        let cipher = |k: &EncryptionKey| ChaCha20Poly1305::new(Key::from_slice(k.key.expose_secret()));
        let mut opening = Vec::with_capacity(keys.len());
        for key in keys {
            if opening.iter().any(|(id, _)| *id == key.id) {
                return Err(ConfigError::new("two encryption keys share one id"));
            }
            opening.push((key.id, cipher(key)));
        }
        Ok(Self {
            sealing: (first.id, cipher(first)),
            opening,
        })
    }

    /// `token`, sealed and bound to `name` (the Redis key it is stored under).
    pub(crate) fn seal(&self, name: &str, token: &ManagedToken) -> Result<Vec<u8>, &'static str> {
        let mut nonce = [0u8; NONCE];
        getrandom::getrandom(&mut nonce).map_err(|_| "no randomness for a nonce")?;
        let secret = token.token().secret().as_bytes();
        // The plain text holds the token: zeroed when dropped, whatever happens below.
        let mut plain = Zeroizing::new(Vec::with_capacity(16 + secret.len()));
        plain.extend_from_slice(&millis(token.issued_at()).to_be_bytes());
        plain.extend_from_slice(&millis(token.expires_at()).to_be_bytes());
        plain.extend_from_slice(secret);
        let (id, cipher) = &self.sealing;
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| "sealing failed");
        drop(plain);
        let sealed = sealed?;
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.push(FORMAT);
        out.push(*id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The token sealed in `value` under `name`; `None` for anything else: a foreign or
    /// corrupt value, a value moved from another key, one sealed under a key not held.
    pub(crate) fn open(&self, name: &str, value: &[u8]) -> Option<ManagedToken> {
        if value.len() < HEADER + TAG + 16 || value[0] != FORMAT {
            return None;
        }
        let (_, cipher) = self.opening.iter().find(|(id, _)| *id == value[1])?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&value[2..HEADER]),
                    Payload {
                        msg: &value[HEADER..],
                        aad: name.as_bytes(),
                    },
                )
                .ok()?,
        );
        read(&plain)
    }
}

fn read(plain: &[u8]) -> Option<ManagedToken> {
    let issued = u64::from_be_bytes(plain.get(..8)?.try_into().ok()?);
    let expires = u64::from_be_bytes(plain.get(8..16)?.try_into().ok()?);
    let token = std::str::from_utf8(plain.get(16..)?).ok()?;
    if token.is_empty() {
        return None;
    }
    Some(ManagedToken::new(
        AccessToken::new(token),
        UNIX_EPOCH.checked_add(Duration::from_millis(issued))?,
        UNIX_EPOCH.checked_add(Duration::from_millis(expires))?,
    ))
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> ManagedToken {
        let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        ManagedToken::new(
            AccessToken::new("eyJ.secret-token"),
            at,
            at + Duration::from_secs(600),
        )
    }

    #[test]
    fn a_sealed_token_opens_under_its_name_only() {
        let ring = Keyring::new(&[EncryptionKey::new(1, [7; 32])]).unwrap();
        let sealed = ring.seal("ns:token:a", &token()).unwrap();
        assert_eq!(ring.open("ns:token:a", &sealed), Some(token()));
        assert_eq!(ring.open("ns:token:b", &sealed), None, "moved to another key");
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("secret-token"));
    }

    #[test]
    fn rotation_reads_old_keys_and_writes_the_new_one() {
        let old = Keyring::new(&[EncryptionKey::new(1, [1; 32])]).unwrap();
        let sealed_old = old.seal("k", &token()).unwrap();
        let rotated =
            Keyring::new(&[EncryptionKey::new(2, [2; 32]), EncryptionKey::new(1, [1; 32])]).unwrap();
        assert_eq!(rotated.open("k", &sealed_old), Some(token()));
        let sealed_new = rotated.seal("k", &token()).unwrap();
        assert_eq!(sealed_new[1], 2);
        assert_eq!(old.open("k", &sealed_new), None, "the old ring lacks the new key");
        let retired = Keyring::new(&[EncryptionKey::new(2, [2; 32])]).unwrap();
        assert_eq!(
            retired.open("k", &sealed_old),
            None,
            "a retired key's values are misses"
        );
    }

    #[test]
    fn corrupt_and_foreign_values_are_misses_not_panics() {
        let ring = Keyring::new(&[EncryptionKey::new(1, [7; 32])]).unwrap();
        let sealed = ring.seal("k", &token()).unwrap();
        for cut in 0..sealed.len() {
            assert_eq!(ring.open("k", &sealed[..cut]), None);
        }
        for i in 0..sealed.len() {
            let mut flipped = sealed.clone();
            flipped[i] ^= 0x40;
            assert_eq!(ring.open("k", &flipped), None, "byte {i} flipped");
        }
        assert_eq!(ring.open("k", b"plain text a foreign writer left"), None);
        assert_eq!(ring.open("k", &[]), None);
    }

    #[test]
    fn key_lists_parse_and_refuse_clearly() {
        let keys = EncryptionKey::parse_list(
            "2:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=, 1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .unwrap();
        assert_eq!(keys.iter().map(EncryptionKey::id).collect::<Vec<_>>(), [2, 1]);
        assert!(EncryptionKey::parse_list("nokey").is_err());
        assert!(EncryptionKey::parse_list("300:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").is_err());
        assert!(Keyring::new(&[]).is_err());
        let twice = [EncryptionKey::new(1, [1; 32]), EncryptionKey::new(1, [2; 32])];
        assert!(Keyring::new(&twice).is_err());
    }
}
