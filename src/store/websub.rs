//! WebSub subscriptions to the outputs: who wants which document pushed, until when, and
//! what was last delivered.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, StoreError, from_unix, unix};

/// One subscriber of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub topic: String,
    pub callback: String,
    pub secret: Option<String>,
    pub lease_until: DateTime<Utc>,
    /// Deliveries failed in a row.
    pub failures: u32,
    /// The entity tag of the document last delivered (or seen when it subscribed).
    pub delivered: Option<String>,
    /// No delivery is tried before this (backoff after a failure).
    pub next_attempt: DateTime<Utc>,
}

impl Store {
    /// Adds or renews a verified subscription; a renewal keeps what was delivered.
    pub fn subscribe(
        &self,
        topic: &str,
        callback: &str,
        secret: Option<&str>,
        lease_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.writer().execute(
            "INSERT INTO websub (topic, callback, secret, lease_until, failures, next_attempt)
             VALUES (?1, ?2, ?3, ?4, 0, 0)
             ON CONFLICT (topic, callback) DO UPDATE
                SET secret = excluded.secret, lease_until = excluded.lease_until,
                    failures = 0, next_attempt = 0",
            params![topic, callback, secret, unix(lease_until)],
        )?;
        Ok(())
    }

    /// Ends a subscription; whether there was one.
    pub fn unsubscribe(&self, topic: &str, callback: &str) -> Result<bool, StoreError> {
        let removed = self.writer().execute(
            "DELETE FROM websub WHERE topic = ?1 AND callback = ?2",
            params![topic, callback],
        )?;
        Ok(removed > 0)
    }

    /// Every subscription, by topic.
    pub fn subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT topic, callback, secret, lease_until, failures, delivered, next_attempt
               FROM websub ORDER BY topic, callback",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Subscription {
                topic: r.get(0)?,
                callback: r.get(1)?,
                secret: r.get(2)?,
                lease_until: from_unix(r.get(3)?),
                failures: r.get(4)?,
                delivered: r.get(5)?,
                next_attempt: from_unix(r.get(6)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a delivery of the document tagged `etag`: done, or failed and next tried at
    /// `retry_at`.
    pub fn record_delivery(
        &self,
        topic: &str,
        callback: &str,
        etag: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let writer = self.writer();
        match retry_at {
            None => writer.execute(
                "UPDATE websub SET delivered = ?3, failures = 0, next_attempt = 0
                  WHERE topic = ?1 AND callback = ?2",
                params![topic, callback, etag],
            )?,
            Some(at) => writer.execute(
                "UPDATE websub SET failures = failures + 1, next_attempt = ?3
                  WHERE topic = ?1 AND callback = ?2",
                params![topic, callback, unix(at)],
            )?,
        };
        Ok(())
    }

    /// Drops subscriptions whose lease ended before `now` or that failed `max_failures`
    /// deliveries in a row; how many.
    pub fn drop_subscriptions(
        &self,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<usize, StoreError> {
        Ok(self.writer().execute(
            "DELETE FROM websub WHERE lease_until < ?1 OR failures >= ?2",
            params![unix(now), max_failures],
        )?)
    }
}
