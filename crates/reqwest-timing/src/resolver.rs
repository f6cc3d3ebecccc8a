//! A timed DNS resolver (the system's getaddrinfo) with an optional TTL cache.
//!
//! getaddrinfo does not expose record TTLs, so cached answers live for a fixed
//! time set by [`ConnectionPolicy::dns_cache_ttl`](crate::ConnectionPolicy).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::recorder::CURRENT;

/// A failed name lookup. Classified as [`ErrorClass::Dns`](crate::ErrorClass::Dns).
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {name:?}: {source}")]
pub struct DnsLookupError {
    name: String,
    #[source]
    source: std::io::Error,
}

/// Answers by host name, with the instant they expire (`None`: a TTL beyond
/// the clock's range, never).
type Cache = Arc<Mutex<HashMap<String, (Vec<SocketAddr>, Option<Instant>)>>>;

#[derive(Debug)]
pub(crate) struct TimingResolver {
    ttl: Option<Duration>,
    cache: Cache,
}

impl TimingResolver {
    pub(crate) fn new(ttl: Option<Duration>) -> Self {
        Self {
            ttl,
            cache: Arc::default(),
        }
    }
}

impl Resolve for TimingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let ttl = self.ttl;
        let cache = self.cache.clone();
        Box::pin(async move {
            let started = Instant::now();
            let cached = ttl.and_then(|_| {
                let cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
                cache
                    .get(&host)
                    .filter(|(_, expires)| expires.is_none_or(|e| e > started))
                    .map(|(a, _)| a.clone())
            });
            let (addrs, from_cache) = match cached {
                Some(addrs) => (addrs, true),
                None => {
                    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                        .await
                        .map_err(|source| DnsLookupError {
                            name: host.clone(),
                            source,
                        })?
                        .collect();
                    if let Some(ttl) = ttl {
                        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
                        let expires = Instant::now().checked_add(ttl);
                        cache.insert(host.clone(), (addrs.clone(), expires));
                    }
                    (addrs, false)
                }
            };
            let ended = Instant::now();
            // Outside a connector future (nothing to attribute it to) there is no record.
            let _ = CURRENT.try_with(|p| p.dns_done(from_cache, ended - started, ended));
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;

    #[test]
    fn a_ttl_beyond_the_clock_never_expires_and_never_panics() {
        let resolver = TimingResolver::new(Some(Duration::MAX));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for _ in 0..2 {
            let name = Name::from_str("localhost").expect("name");
            let addrs: Vec<SocketAddr> = rt
                .block_on(resolver.resolve(name))
                .expect("resolves")
                .collect();
            assert!(!addrs.is_empty());
        }
        let cache = resolver
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        assert_eq!(
            cache.get("localhost").map(|(_, expires)| *expires),
            Some(None)
        );
    }
}
