//! The open-file limit, checked at start: every request in flight holds a
//! socket, so `--concurrency` must fit under `ulimit -n`. A soft limit that is
//! too low is raised to the hard limit; a hard limit that is too low is bad input.

use rlimit::Resource;

/// Descriptors besides the requests': standard streams, the runtime's poller,
/// signal pipes, the sink's socket, the resolver, with room to spare.
pub const RESERVED_FILES: u64 = 32;

/// Open files a probe may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// Requests in flight at once.
    pub in_flight: u64,
    /// Idle keep-alive connections kept between rounds (reused probes).
    pub idle: u64,
}

impl Need {
    /// The total, reserve included.
    pub fn files(self) -> u64 {
        self.in_flight + self.idle + RESERVED_FILES
    }
}

/// The limit did not allow the probe to run.
#[derive(Debug, thiserror::Error)]
pub enum FdLimitError {
    /// Even the hard limit is too low.
    #[error(
        "{in_flight} requests in flight (--concurrency) need about {need} open files, but the open-file limit (ulimit -n) is {soft} (hard limit {hard}): lower --concurrency (PROBE_CONCURRENCY) or raise the limit"
    )]
    TooLow {
        /// Requests in flight.
        in_flight: u64,
        /// Files needed.
        need: u64,
        /// Soft limit.
        soft: u64,
        /// Hard limit.
        hard: u64,
    },
    /// The limit could not be read or raised.
    #[error("open-file limit (ulimit -n): {0}")]
    Io(#[from] std::io::Error),
}

/// Makes room for `need`: `Ok(None)` when the soft limit suffices,
/// `Ok(Some((old, new)))` when it was raised.
pub fn ensure(need: Need) -> Result<Option<(u64, u64)>, FdLimitError> {
    let (soft, hard) = Resource::NOFILE.get()?;
    let files = need.files();
    if files <= soft {
        return Ok(None);
    }
    if files > hard {
        return Err(FdLimitError::TooLow {
            in_flight: need.in_flight,
            need: files,
            soft,
            hard,
        });
    }
    Resource::NOFILE.set(hard, hard)?;
    Ok(Some((soft, hard)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_added() {
        let need = Need {
            in_flight: 64,
            idle: 10,
        };
        assert_eq!(need.files(), 64 + 10 + RESERVED_FILES);
    }

    #[test]
    fn a_need_within_the_current_limit_changes_nothing() {
        let need = Need {
            in_flight: 1,
            idle: 0,
        };
        assert_eq!(ensure(need).expect("limit readable"), None);
    }
}
