//! Where the external tools are: env override, the install-tools.sh cache, then PATH.

use std::path::{Path, PathBuf};

/// Telegraf version built by `scripts/install-tools.sh` (same as the compose image).
pub const TELEGRAF_VERSION: &str = "1.39.3";

/// True when running under CI (`CI=true`): missing tools are then a failure.
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

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
/// Returns `Ok(None)` after printing a loud SKIPPED line when one is missing outside CI;
/// under `CI=true` a missing tool is an error telling to run `make tools`.
pub fn require_tools(test: &str) -> anyhow::Result<Option<Tools>> {
    let telegraf = find_tool(
        "TELEGRAF_BIN",
        // The symlink points at the build with the current plugin set.
        &["telegraf"],
        "telegraf",
    );
    let influxd = find_tool("INFLUXD_BIN", &["influxd"], "influxd");
    let missing = match (&telegraf, &influxd) {
        (None, _) => "telegraf",
        (_, None) => "influxd",
        (Some(telegraf), Some(influxd)) => {
            return Ok(Some(Tools {
                telegraf: telegraf.clone(),
                influxd: influxd.clone(),
            }));
        }
    };
    if in_ci() {
        anyhow::bail!(
            "{test}: {missing} not found (CI=true); run `make tools` (scripts/install-tools.sh)"
        );
    }
    // Straight to stderr: shown even though the test harness captures print!.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {missing} not found; run make tools"
    );
    Ok(None)
}
