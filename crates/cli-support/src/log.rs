//! The one log subscriber of the binaries: compact lines on stderr,
//! `NAME: message key=value...`, errors as `NAME: error: message`, the level
//! from `RUST_LOG` (default `info`; `RUST_LOG=warn` keeps only problems,
//! `RUST_LOG=off` nothing). Only `tracing` events are written: the `log`
//! records of reqwest and rustls are not bridged. Rate limits of repeated
//! warnings live with the code that repeats them
//! (`probe_metrics::rate_limit`).

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the subscriber for the program `name` (once; later calls, and
/// calls after another subscriber was installed, change nothing). An unusable
/// `RUST_LOG` falls back to `info` and says so.
pub fn init(name: &'static str) {
    let (filter, bad) = match EnvFilter::try_from_default_env() {
        Ok(f) => (f, None),
        Err(e) if std::env::var_os(EnvFilter::DEFAULT_ENV).is_some() => {
            (EnvFilter::new("info"), Some(e))
        }
        Err(_) => (EnvFilter::new("info"), None),
    };
    let installed = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .event_format(Line { name })
        .try_init()
        .is_ok();
    if let (true, Some(e)) = (installed, bad) {
        tracing::warn!("RUST_LOG not understood ({e}); logging at level info");
    }
}

/// `NAME: [level: ]message key=value...`; info and warnings carry no level
/// word (the probes' one-line-per-failure style), errors say `error:`.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    /// The program's name.
    pub name: &'static str,
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "{}: ", self.name)?;
        match *event.metadata().level() {
            Level::INFO | Level::WARN => {}
            Level::ERROR => writer.write_str("error: ")?,
            Level::DEBUG => writer.write_str("debug: ")?,
            Level::TRACE => writer.write_str("trace: ")?,
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_name_the_program_and_keep_fields() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_env_filter(EnvFilter::new("info"))
            .event_format(Line { name: "probe-x" })
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("3 targets, 2 rounds");
            tracing::warn!(key = "a", "target api: timeout");
            tracing::error!("no targets");
            tracing::debug!("hidden at level info");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "probe-x: 3 targets, 2 rounds\nprobe-x: target api: timeout key=\"a\"\nprobe-x: error: no targets\n"
        );
    }
}
