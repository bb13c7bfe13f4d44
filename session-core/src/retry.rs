//! When a failed attempt is tried again, and after how long.

use crate::error::TransportError;
use http::{HeaderMap, Method, StatusCode};
use std::time::{Duration, SystemTime};

/// Which failures are retried, how often, and how long to wait between attempts.
///
/// The default suits this API: up to 3 attempts in all; GET retried on 429, 502, 503, 504
/// and on connect and timeout errors; a POST (login, get token, logout, revoke token)
/// retried only after a connect error, when the request never reached the server. 500 is
/// never retried by default, because this API answers 500 for bad credentials. Waits grow
/// exponentially from 200 ms, capped at 20 s, with jitter; a `Retry-After` (seconds or an
/// HTTP date) is honoured, and a `Retry-After` longer than the cap ends the retries.
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(5)
///     .initial_backoff(Duration::from_millis(50))
///     .max_backoff(Duration::from_secs(2))
///     .statuses([429, 503]);
/// assert_eq!(policy.attempts(), 5);
/// assert_eq!(RetryPolicy::disabled().attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    jitter: bool,
    statuses: Vec<StatusCode>,
    methods: Vec<Method>,
    on_timeout: bool,
    honor_retry_after: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            jitter: true,
            statuses: [429, 502, 503, 504]
                .into_iter()
                .filter_map(|s| StatusCode::from_u16(s).ok())
                .collect(),
            methods: vec![Method::GET],
            on_timeout: true,
            honor_retry_after: true,
        }
    }
}

/// Why an attempt failed, as the retry decision sees it.
pub(crate) enum Failure<'a> {
    Status(StatusCode, &'a HeaderMap),
    Transport(&'a TransportError),
    AttemptTimeout,
}

impl RetryPolicy {
    /// One attempt, never retried.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1; 0 is refused by the builder).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The wait before the second attempt; each later wait doubles.
    #[must_use]
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait between attempts.
    #[must_use]
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Randomises each wait between half and all of its value (on by default), so that
    /// many clients do not retry in step.
    #[must_use]
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The statuses retried for the retried methods. Codes outside 100..=999 are ignored.
    #[must_use]
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.statuses = statuses
            .into_iter()
            .filter_map(|s| StatusCode::from_u16(s).ok())
            .collect();
        self
    }

    /// The methods retried on a status or a timeout (default GET). Any method is retried
    /// after a connect error, which means the request never left.
    #[must_use]
    pub fn methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// Retry the retried methods after a timeout (on by default).
    #[must_use]
    pub fn retry_on_timeout(mut self, retry: bool) -> Self {
        self.on_timeout = retry;
        self
    }

    /// Honour `Retry-After` (on by default).
    #[must_use]
    pub fn honor_retry_after(mut self, honor: bool) -> Self {
        self.honor_retry_after = honor;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before attempt `attempt + 1`, or `None` when `failure` after attempt
    /// `attempt` (counted from 1) is not retried. A call that `mints` a token is retried
    /// only when it never left (a connect error), whatever the methods.
    pub(crate) fn next_delay(
        &self,
        method: &Method,
        mints: bool,
        attempt: u32,
        failure: Failure<'_>,
        now: SystemTime,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let retried_method = !mints && self.methods.contains(method);
        let retry_after = match failure {
            Failure::Transport(e) if e.is_connect() => None,
            Failure::Transport(e) if e.is_timeout() && retried_method && self.on_timeout => None,
            Failure::AttemptTimeout if retried_method && self.on_timeout => None,
            Failure::Status(status, headers) if retried_method && self.statuses.contains(&status) => {
                if self.honor_retry_after {
                    retry_after(headers, now)
                } else {
                    None
                }
            }
            _ => return None,
        };
        match retry_after {
            Some(wait) if wait > self.max_backoff => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(attempt)),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let full = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        if self.jitter {
            let half = full / 2;
            let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
            half + Duration::from_nanos(fastrand::u64(0..=nanos))
        } else {
            full
        }
    }
}

/// Reads `Retry-After` as seconds or as an HTTP date (a date in the past means now).
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn status(
        policy: &RetryPolicy,
        method: Method,
        attempt: u32,
        code: u16,
        headers: &HeaderMap,
    ) -> Option<Duration> {
        let code = StatusCode::from_u16(code).expect("valid");
        policy.next_delay(
            &method,
            false,
            attempt,
            Failure::Status(code, headers),
            UNIX_EPOCH,
        )
    }

    #[test]
    fn default_retries_get_on_503_but_not_post_or_500() {
        let p = RetryPolicy::default().jitter(false);
        let none = HeaderMap::new();
        assert_eq!(
            status(&p, Method::GET, 1, 503, &none),
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            status(&p, Method::GET, 2, 503, &none),
            Some(Duration::from_millis(400))
        );
        assert_eq!(status(&p, Method::GET, 3, 503, &none), None, "3 attempts in all");
        assert_eq!(status(&p, Method::GET, 1, 500, &none), None);
        assert_eq!(status(&p, Method::POST, 1, 503, &none), None);
        let refused = TransportError::connect(std::io::Error::other("refused"));
        assert!(
            p.next_delay(&Method::POST, false, 1, Failure::Transport(&refused), UNIX_EPOCH)
                .is_some()
        );
        let timeout = TransportError::timeout(std::io::Error::other("slow"));
        assert!(
            p.next_delay(&Method::POST, false, 1, Failure::Transport(&timeout), UNIX_EPOCH)
                .is_none()
        );
        assert!(
            p.next_delay(&Method::GET, false, 1, Failure::Transport(&timeout), UNIX_EPOCH)
                .is_some()
        );
        assert!(
            p.next_delay(&Method::POST, false, 1, Failure::AttemptTimeout, UNIX_EPOCH)
                .is_none()
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let p = RetryPolicy::default();
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, "7".parse().expect("valid"));
        assert_eq!(status(&p, Method::GET, 1, 429, &h), Some(Duration::from_secs(7)));
        h.insert(
            http::header::RETRY_AFTER,
            "Thu, 01 Jan 1970 00:00:15 GMT".parse().expect("valid"),
        );
        assert_eq!(status(&p, Method::GET, 1, 429, &h), Some(Duration::from_secs(15)));
        h.insert(http::header::RETRY_AFTER, "3600".parse().expect("valid"));
        assert_eq!(
            status(&p, Method::GET, 1, 429, &h),
            None,
            "longer than the cap: give up"
        );
    }

    #[test]
    fn jittered_backoff_stays_between_half_and_full_and_is_capped() {
        let p = RetryPolicy::default()
            .max_attempts(40)
            .max_backoff(Duration::from_secs(5));
        for attempt in 1..40 {
            let full = Duration::from_millis(200)
                .saturating_mul(2u32.saturating_pow(attempt - 1))
                .min(Duration::from_secs(5));
            let d = p.backoff(attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?} vs {full:?}");
        }
    }
}
