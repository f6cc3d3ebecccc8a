//! The shipped Telegraf config: its contract with the Docker stack (text checks, always
//! run) and Telegraf's own verdict on it (needs Telegraf: `make tools`).

use std::path::Path;
use std::process::Command;

use anyhow::ensure;
use stack_tests::telegraf::{self, Settings, check_config, shipped_dir};
use stack_tests::tools::{require_tools, workspace_root};

fn shipped_config() -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(
        shipped_dir().join("telegraf.conf"),
    )?)
}

fn settings() -> Settings {
    Settings {
        token: "test-token".to_owned(),
        influx_url: "http://127.0.0.1:9".to_owned(),
        bucket: "probes".to_owned(),
        histogram_period: "30s".to_owned(),
        flush_interval: "10s".to_owned(),
        interval: "10s".to_owned(),
    }
}

#[test]
fn shipped_config_keeps_the_stack_contract() -> anyhow::Result<()> {
    let conf = shipped_config()?;
    for needle in [
        r#"urls = ["${INFLUX_URL}"]"#,
        r#"token = "${INFLUX_TOKEN}""#,
        r#"organization = "${INFLUX_ORG}""#,
        r#"bucket = "${INFLUX_BUCKET}""#,
        r#""${TELEGRAF_LISTEN_UDP:-udp://:8094}""#,
        r#""${TELEGRAF_LISTEN_TCP:-tcp://:8094}""#,
        r#""${TELEGRAF_LISTEN_HTTP:-:8186}""#,
        "[[inputs.influxdb_v2_listener]]",
        r#"period = "${TELEGRAF_HISTOGRAM_PERIOD:-30s}""#,
        "cumulative = false",
        "reset = true",
        "drop_original = false",
        r#"data_format = "influx""#,
        "[[inputs.internal]]",
    ] {
        ensure!(conf.contains(needle), "telegraf.conf lacks {needle:?}");
    }
    // Valid TOML before substitution (Telegraf >= 1.38): no ${...} outside a string.
    for line in conf.lines().filter(|l| !l.trim_start().starts_with('#')) {
        if let Some(pos) = line.find("${") {
            ensure!(line[..pos].contains('"'), "unquoted ${{...}} in {line:?}");
        }
    }
    ensure!(
        shipped_dir().join("telegraf.d").is_dir(),
        "telegraf/telegraf.d missing"
    );
    Ok(())
}

#[test]
fn telegraf_accepts_shipped_config() -> anyhow::Result<()> {
    let Some(tools) = require_tools("telegraf shipped config test") else {
        return Ok(());
    };
    let out = check_config(&tools.telegraf, &shipped_dir(), &settings())?;
    for needle in [
        "Loaded inputs: influxdb_v2_listener internal socket_listener (2x)",
        "Loaded aggregators: histogram",
    ] {
        ensure!(
            out.contains(needle),
            "telegraf --test output lacks {needle:?}:\n{out}"
        );
    }
    let check = Command::new(&tools.telegraf)
        .args(["config", "check", "--config"])
        .arg(shipped_dir().join("telegraf.conf"))
        .arg("--config-directory")
        .arg(shipped_dir().join("telegraf.d"))
        .envs(settings().env(
            ([127, 0, 0, 1], 9).into(),
            ([127, 0, 0, 1], 9).into(),
            ([127, 0, 0, 1], 9).into(),
            ([127, 0, 0, 1], 9).into(),
        ))
        .output()?;
    ensure!(
        check.status.success(),
        "telegraf config check failed: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    println!(
        "telegraf {} accepts telegraf/telegraf.conf",
        telegraf::version(&tools.telegraf)?
    );
    Ok(())
}

fn copy_with(dir: &Path, from: &str, to: &str) -> anyhow::Result<()> {
    let conf = shipped_config()?;
    ensure!(conf.contains(from), "telegraf.conf lacks {from:?}");
    std::fs::create_dir_all(dir.join("telegraf.d"))?;
    std::fs::write(dir.join("telegraf.conf"), conf.replacen(from, to, 1))?;
    Ok(())
}

#[test]
fn telegraf_rejects_unquoted_env_reference() -> anyhow::Result<()> {
    let Some(tools) = require_tools("telegraf env reference test") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    copy_with(
        dir.path(),
        r#"urls = ["${INFLUX_URL}"]"#,
        "urls = [${INFLUX_URL}]",
    )?;
    let result = check_config(&tools.telegraf, dir.path(), &settings());
    ensure!(
        result.is_err(),
        "an unquoted ${{INFLUX_URL}} was accepted: {result:?}"
    );
    Ok(())
}

/// The Distribution dashboard's bar gauge asks for each histogram bucket by its upper
/// bound; it must list exactly the buckets of the shipped config, in order, then +Inf.
#[test]
fn bucket_panel_matches_the_configured_buckets() -> anyhow::Result<()> {
    let config = std::fs::read_to_string(shipped_dir().join("telegraf.conf"))?;
    let mut expected: Vec<String> = stack_tests::histogram::bounds_from_config(&config)?
        .iter()
        .map(|b| b.to_string())
        .collect();
    expected.push("+Inf".to_owned());
    let file = workspace_root().join("grafana/dashboards/distribution.json");
    let (_, queries) = stack_tests::dashboards::load(&file)?;
    let asked: Vec<String> = queries
        .iter()
        .filter(|q| q.query.contains("total_ms_bucket"))
        .filter_map(|q| {
            q.query
                .split("\"le\" = '")
                .nth(1)?
                .split('\'')
                .next()
                .map(str::to_owned)
        })
        .collect();
    anyhow::ensure!(
        asked == expected,
        "dashboard buckets {asked:?}, telegraf buckets {expected:?}"
    );
    Ok(())
}

/// The Telegraf that `make tools` builds and the tests run is the compose image's version.
#[test]
fn tests_run_the_compose_image_telegraf_version() -> anyhow::Result<()> {
    let compose = std::fs::read_to_string(workspace_root().join("docker-compose.yml"))?;
    let image = format!("image: telegraf:{}\n", stack_tests::tools::TELEGRAF_VERSION);
    ensure!(
        compose.contains(&image),
        "docker-compose.yml lacks {image:?}"
    );
    let script = std::fs::read_to_string(workspace_root().join("scripts/install-tools.sh"))?;
    let pin = format!(
        "TELEGRAF_VERSION={}\n",
        stack_tests::tools::TELEGRAF_VERSION
    );
    ensure!(
        script.contains(&pin),
        "scripts/install-tools.sh lacks {pin:?}"
    );
    Ok(())
}
