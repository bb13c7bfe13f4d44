//! The users a fake cluster knows.

use thoughtspot_session_core::Password;

/// A user of a [`FakeThoughtSpot`](crate::FakeThoughtSpot).
///
/// ```
/// use thoughtspot_session_mock::FakeUser;
///
/// let user = FakeUser::new("analyst@example.com", "analyst-password")
///     .display_name("An Analyst")
///     .orgs([0, 7])
///     .privileges(["AUTHORING", "DATADOWNLOADING"]);
/// assert_eq!(user.name(), "analyst@example.com");
/// ```
#[derive(Clone, Debug)]
pub struct FakeUser {
    pub(crate) name: String,
    pub(crate) password: Password,
    pub(crate) display_name: String,
    pub(crate) guid: String,
    pub(crate) email: String,
    pub(crate) orgs: Vec<u64>,
    pub(crate) privileges: Vec<String>,
}

impl FakeUser {
    /// A user with a password; display name, GUID and email are derived from the name, the
    /// user belongs to org 0 and has the `AUTHORING` privilege until told otherwise.
    pub fn new(name: impl Into<String>, password: impl Into<Password>) -> Self {
        let name = name.into();
        let guid = guid_for(&name);
        let email = if name.contains('@') {
            name.clone()
        } else {
            format!("{name}@example.com")
        };
        Self {
            display_name: name.clone(),
            name,
            password: password.into(),
            guid,
            email,
            orgs: vec![0],
            privileges: vec!["AUTHORING".to_owned()],
        }
    }

    /// `userDisplayName`.
    #[must_use]
    pub fn display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = display_name.into();
        self
    }

    /// `userGUID`.
    #[must_use]
    pub fn guid(mut self, guid: impl Into<String>) -> Self {
        self.guid = guid.into();
        self
    }

    /// `userEmail`.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    /// The orgs the user belongs to; the first is the default. An empty list is ignored.
    #[must_use]
    pub fn orgs(mut self, orgs: impl IntoIterator<Item = u64>) -> Self {
        let orgs: Vec<u64> = orgs.into_iter().collect();
        if !orgs.is_empty() {
            self.orgs = orgs;
        }
        self
    }

    /// `privileges`.
    #[must_use]
    pub fn privileges(mut self, privileges: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.privileges = privileges.into_iter().map(Into::into).collect();
        self
    }

    /// The account name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The user's GUID.
    pub fn user_guid(&self) -> &str {
        &self.guid
    }
}

/// A stable GUID-shaped id derived from a name (FNV-1a), so fakes are reproducible.
fn guid_for(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}
