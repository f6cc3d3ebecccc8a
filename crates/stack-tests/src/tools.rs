//! Where the external tools are: env override, the install-tools.sh cache, then PATH.

use std::path::{Path, PathBuf};

/// Telegraf version built by `scripts/install-tools.sh` (same as the compose image).
pub const TELEGRAF_VERSION: &str = "1.39.3";

pub use crate::influxdb::INFLUXDB_VERSION;
pub use test_support::in_ci;

/// The machine-wide cache used by `scripts/install-tools.sh`.
pub fn cache_bin_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("backend-timing").join("bin"))
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Directory holding the workspace binaries (`PROBE_BIN_DIR`, else `target/debug`).
pub fn probe_bin_dir() -> PathBuf {
    match std::env::var_os("PROBE_BIN_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("target").join("debug"),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// Finds a tool: `$env_var`, then `cache_names` in the cache dir, then `path_name` on PATH.
pub fn find_tool(env_var: &str, cache_names: &[&str], path_name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(dir) = cache_bin_dir() {
        for name in cache_names {
            let p = dir.join(name);
            if is_executable(&p) {
                return Some(p);
            }
        }
    }
    on_path(path_name)
}

/// The two tools the pipeline test needs.
#[derive(Debug, Clone)]
pub struct Tools {
    pub telegraf: PathBuf,
    pub influxd: PathBuf,
}

/// Locates Telegraf (`TELEGRAF_BIN`) and InfluxDB (`INFLUXD_BIN`).
///
/// Returns `None` when one is missing, after [`test_support::skip_or_fail`]: a loud
/// SKIPPED line counted by `make test` outside CI, a failure under `CI=true`.
pub fn require_tools(test: &str) -> Option<Tools> {
    let telegraf = find_tool(
        "TELEGRAF_BIN",
        // The symlink points at the build with the current plugin set.
        &["telegraf"],
        "telegraf",
    );
    let influxd = find_tool("INFLUXD_BIN", &["influxd"], "influxd");
    let missing = match (telegraf, influxd) {
        (Some(telegraf), Some(influxd)) => return Some(Tools { telegraf, influxd }),
        (None, _) => "telegraf",
        (_, None) => "influxd",
    };
    test_support::skip_or_fail(test, &format!("{missing} not found; run make tools"));
    None
}
