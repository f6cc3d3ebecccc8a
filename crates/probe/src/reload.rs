//! SIGHUP re-reads the targets file; the new targets take effect at the next
//! round. A bad file, or one whose targets need a client that cannot be built
//! (a CA file briefly missing), is logged in one line and the current targets stay.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::{Config, load_targets};
use crate::log::Log;
use crate::target::Target;

/// Set when a SIGHUP arrived and not yet handled.
#[derive(Debug)]
pub(crate) struct Reload(Arc<AtomicBool>);

impl Reload {
    /// Registers the SIGHUP handler (also without a targets file: then a
    /// SIGHUP is logged and ignored instead of ending the probe).
    pub(crate) fn install() -> std::io::Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGHUP, flag.clone())?;
        Ok(Self(flag))
    }

    /// The new targets if a SIGHUP arrived, the file is good and `prepare`
    /// (building the clients they need) succeeded.
    pub(crate) fn poll(
        &self,
        config: &Config,
        current: &[Target],
        log: &Log,
        prepare: impl FnOnce(&[Target]) -> anyhow::Result<()>,
    ) -> Option<Vec<Target>> {
        if !self.0.swap(false, Ordering::Relaxed) {
            return None;
        }
        let Some(path) = config.targets_file.as_deref() else {
            log.info("SIGHUP: no targets file to re-read (--targets-file); nothing changed");
            return None;
        };
        // Both failures are one line: the file's error, or why a client failed.
        let loaded = load_targets(&config.given_targets, Some(path)).map_err(|e| e.to_string());
        match loaded.and_then(|t| prepare(&t).map(|()| t).map_err(|e| format!("{e:#}"))) {
            Ok(targets) => {
                log.info(format_args!(
                    "SIGHUP: re-read {}: {} targets from the next round",
                    path.display(),
                    targets.len()
                ));
                Some(targets)
            }
            Err(e) => {
                log.info(format_args!(
                    "SIGHUP: {e}; keeping the {} current targets",
                    current.len()
                ));
                None
            }
        }
    }
}
