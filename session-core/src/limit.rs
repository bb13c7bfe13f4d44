//! A fair, runtime-free limit on requests in flight.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// At most `max` holders of a [`Permit`] at once; the others wait in arrival order.
#[derive(Debug)]
pub(crate) struct Limiter {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    available: usize,
    next_ticket: u64,
    /// Waiting acquirers, oldest first.
    queue: VecDeque<(u64, Waker)>,
}

impl Limiter {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                available: max,
                next_ticket: 0,
                queue: VecDeque::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is a counter change or a queue edit finished under the guard.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a permit.
    pub(crate) fn acquire(self: &Arc<Self>) -> Acquire {
        Acquire {
            limiter: Arc::clone(self),
            ticket: None,
        }
    }

    fn release(&self) {
        let mut state = self.lock();
        state.available += 1;
        let next = state.queue.front().map(|(_, w)| w.clone());
        drop(state);
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

/// The future of [`Limiter::acquire`]; dropping it gives up its place in the queue.
pub(crate) struct Acquire {
    limiter: Arc<Limiter>,
    ticket: Option<u64>,
}

impl Future for Acquire {
    type Output = Permit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let limiter = Arc::clone(&self.limiter);
        let mut state = limiter.lock();
        let first = match self.ticket {
            None => state.queue.is_empty(),
            Some(t) => state.queue.front().is_some_and(|(front, _)| *front == t),
        };
        if first && state.available > 0 {
            state.available -= 1;
            if self.ticket.take().is_some() {
                state.queue.pop_front();
            }
            // The next in line may go too if permits are left.
            let next = (state.available > 0)
                .then(|| state.queue.front().map(|(_, w)| w.clone()))
                .flatten();
            drop(state);
            if let Some(waker) = next {
                waker.wake();
            }
            return Poll::Ready(Permit {
                limiter: Arc::clone(&self.limiter),
            });
        }
        match self.ticket {
            Some(t) => {
                if let Some(entry) = state.queue.iter_mut().find(|(i, _)| *i == t) {
                    entry.1 = cx.waker().clone();
                }
            }
            None => {
                let t = state.next_ticket;
                state.next_ticket += 1;
                state.queue.push_back((t, cx.waker().clone()));
                drop(state);
                self.ticket = Some(t);
            }
        }
        Poll::Pending
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        let Some(t) = self.ticket else { return };
        let mut state = self.limiter.lock();
        let was_first = state.queue.front().is_some_and(|(front, _)| *front == t);
        state.queue.retain(|(i, _)| *i != t);
        let next = (was_first && state.available > 0)
            .then(|| state.queue.front().map(|(_, w)| w.clone()))
            .flatten();
        drop(state);
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

/// A place in flight, given back on drop.
pub(crate) struct Permit {
    limiter: Arc<Limiter>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.limiter.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_than_max_at_once_and_cancelled_waiters_leave_the_queue() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let limiter = Limiter::new(3);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let (limiter, now, peak) = (limiter.clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    let acquire = limiter.acquire();
                    let permit = if n % 7 == 0 {
                        // Some give up while queued.
                        match tokio::time::timeout(std::time::Duration::from_micros(50), acquire).await {
                            Ok(p) => p,
                            Err(_) => return,
                        }
                    } else {
                        acquire.await
                    };
                    let inside = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(inside, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        assert!(peak.load(Ordering::SeqCst) <= 3);
        let state = limiter.lock();
        assert_eq!((state.available, state.queue.len()), (3, 0));
    }
}
