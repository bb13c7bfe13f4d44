//! When a token expires on the manager's clock, whatever the cluster's clock says.

use crate::model::SessionLoginResponse;
use std::time::{Duration, SystemTime};

/// How far the cluster's absolute expiry may fall short of the local one and still be
/// believed (30 s). A cluster clock off by more is ignored: freshness then rests on the
/// manager's clock and the lifetime alone.
pub const TOKEN_CLOCK_TOLERANCE: Duration = Duration::from_secs(30);

/// The longest lifetime the manager believes or accepts (one year): a longer one from the
/// cluster is cut to it, and a longer one configured is refused.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// When a token answered to a request sent at `sent_at` expires, on the local clock.
///
/// The lifetime (`tokenExpiryDuration` in seconds, or the cluster's expiry minus its
/// creation time) is measured on the cluster but is the same on any clock, so it is added
/// to the local send time. The cluster's absolute expiry is read on the cluster's clock: it
/// only shortens the result, and only when it falls short by at most [`TOKEN_CLOCK_TOLERANCE`];
/// a cluster clock off by more is ignored. With no lifetime, a plausible absolute expiry
/// (in the future, within [`MAX_TOKEN_LIFETIME`]) is used, else `fallback`.
pub(super) fn local_expiry(
    sent_at: SystemTime,
    response: &SessionLoginResponse,
    fallback: Duration,
) -> SystemTime {
    let absolute = response.expires_at();
    let lifetime = match response.lifetime() {
        Some(lifetime) => lifetime.min(MAX_TOKEN_LIFETIME),
        None => match absolute.and_then(|at| at.duration_since(sent_at).ok()) {
            Some(left) if !left.is_zero() && left <= MAX_TOKEN_LIFETIME => left,
            _ => fallback,
        },
    };
    // Both lifetimes are at most a year: the sum stays in range for any real clock; should
    // it not, the token counts as expired at once.
    let local = sent_at.checked_add(lifetime).unwrap_or(sent_at);
    match absolute {
        Some(at) if at < local && local.duration_since(at).is_ok_and(|d| d <= TOKEN_CLOCK_TOLERANCE) => at,
        _ => local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Duration = Duration::from_secs(1_800_000_000);

    fn at(secs_after: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + AT + Duration::from_secs(secs_after)
    }

    #[test]
    fn expiry_is_the_local_send_time_plus_the_lifetime() {
        let sent = at(0);
        let fallback = Duration::from_secs(120);
        let seconds = SessionLoginResponse::new()
            .with_created_at(at(7200))
            .with_lifetime(Duration::from_secs(300));
        assert_eq!(local_expiry(sent, &seconds, fallback), at(300));
        // The cluster's expiry 20 s short of ours: believed, as an upper bound.
        let short = SessionLoginResponse::new()
            .with_created_at(at(0))
            .with_absolute_expiry(at(280));
        assert_eq!(local_expiry(sent, &short, fallback), at(280));
        // Nothing of expiry: the fallback.
        assert_eq!(
            local_expiry(sent, &SessionLoginResponse::new(), fallback),
            at(120)
        );
        // Only an absolute expiry: used when plausible, else the fallback.
        let absolute = SessionLoginResponse::new().with_absolute_expiry(at(600));
        assert_eq!(local_expiry(sent, &absolute, fallback), at(600));
        let past = SessionLoginResponse::new().with_absolute_expiry(at(0) - Duration::from_secs(60));
        assert_eq!(local_expiry(sent, &past, fallback), at(120));
        // An absurd lifetime is cut to a year, never an overflow.
        let huge = SessionLoginResponse::new().with_lifetime(Duration::from_secs(10_000_000_000));
        assert_eq!(local_expiry(sent, &huge, fallback), sent + MAX_TOKEN_LIFETIME);
    }
}
