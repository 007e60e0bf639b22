//! Politeness towards each host: at most `per_host` requests in flight to it, and at least
//! `per_host_delay` between the starts of two requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Per-host limits shared by every fetch.
#[derive(Debug)]
pub struct HostGate {
    per_host: usize,
    delay: Duration,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

#[derive(Debug)]
struct Host {
    permits: Arc<Semaphore>,
    /// When the next request to this host may start.
    next_start: tokio::sync::Mutex<Instant>,
}

/// Held while a request to a host is in flight.
pub struct HostPermit {
    _permit: OwnedSemaphorePermit,
}

impl HostGate {
    pub fn new(per_host: usize, delay: Duration) -> HostGate {
        HostGate {
            per_host: per_host.max(1),
            delay,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `host` may start.
    pub async fn enter(&self, host: &str) -> HostPermit {
        let host = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(host.to_ascii_lowercase())
                .or_insert_with(|| {
                    Arc::new(Host {
                        permits: Arc::new(Semaphore::new(self.per_host)),
                        next_start: tokio::sync::Mutex::new(Instant::now()),
                    })
                })
                .clone()
        };
        let permit = host
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        let mut next_start = host.next_start.lock().await;
        tokio::time::sleep_until(*next_start).await;
        *next_start = Instant::now() + self.delay;
        HostPermit { _permit: permit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_and_limited() {
        let gate = Arc::new(HostGate::new(1, Duration::from_secs(2)));
        let start = Instant::now();
        let first = gate.enter("a.example").await;
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _second = gate.enter("A.example").await;
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(first);
        let second_started = waiter.await.expect("task");
        assert!(
            second_started - start >= Duration::from_secs(5),
            "waited for the permit"
        );
        let other = gate.enter("b.example").await;
        drop(other);
        assert!(
            Instant::now() - start < Duration::from_secs(6),
            "other hosts are not held up"
        );
    }
}
