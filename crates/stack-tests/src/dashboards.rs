//! InfluxQL queries of the Grafana dashboards, substituted the way Grafana's backend does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

/// Where a query comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Panel(String),
    Variable(String),
}

/// One raw InfluxQL query of a dashboard.
#[derive(Debug, Clone)]
pub struct DashQuery {
    pub file: PathBuf,
    pub origin: Origin,
    pub query: String,
}

impl DashQuery {
    pub fn label(&self) -> String {
        let file = self.file.file_name().unwrap_or_default().to_string_lossy();
        match &self.origin {
            Origin::Panel(t) => format!("{file} panel {t:?}"),
            Origin::Variable(n) => format!("{file} variable ${n}"),
        }
    }
}

/// Every dashboard JSON file in `dir`, sorted.
pub fn dashboard_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// A dashboard template variable.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    /// Grafana's variable type: `query`, `custom`, `constant`, `interval`, ...
    pub kind: String,
    pub query: String,
}

/// The template variables and the panel queries of one dashboard.
pub fn load(file: &Path) -> anyhow::Result<(Vec<Variable>, Vec<DashQuery>)> {
    let text = std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("parse {}", file.display()))?;
    // Dashboards exported for provisioning may wrap the model in {"dashboard": ...}.
    let dash = json.get("dashboard").unwrap_or(&json);
    let mut variables = Vec::new();
    for var in dash["templating"]["list"].as_array().into_iter().flatten() {
        let query = match &var["query"] {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        };
        variables.push(Variable {
            name: var["name"].as_str().unwrap_or_default().to_owned(),
            kind: var["type"].as_str().unwrap_or_default().to_owned(),
            query,
        });
    }
    let mut panels = Vec::new();
    collect_panels(file, &dash["panels"], &mut panels);
    for row in dash["rows"].as_array().into_iter().flatten() {
        collect_panels(file, &row["panels"], &mut panels);
    }
    Ok((variables, panels))
}

fn collect_panels(file: &Path, panels: &Value, out: &mut Vec<DashQuery>) {
    for panel in panels.as_array().into_iter().flatten() {
        let title = panel["title"].as_str().unwrap_or("(untitled)");
        for target in panel["targets"].as_array().into_iter().flatten() {
            if target["hide"].as_bool() == Some(true) {
                continue;
            }
            if let Some(q) = target["query"].as_str().filter(|q| !q.trim().is_empty()) {
                out.push(DashQuery {
                    file: file.to_owned(),
                    origin: Origin::Panel(title.to_owned()),
                    query: q.to_owned(),
                });
            }
        }
        collect_panels(file, &panel["panels"], out);
    }
}

/// Escapes a value the way Grafana's InfluxQL data source does for regex contexts.
pub fn escape_regex(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "-[]{}()*+?.,\\^$|#/".contains(c) || c.is_whitespace() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A template variable's value: all its values, as Grafana renders `All`/multi values.
pub fn regex_alternation(values: &[String]) -> String {
    let escaped: Vec<String> = values.iter().map(|v| escape_regex(v)).collect();
    match escaped.as_slice() {
        [one] => one.clone(),
        _ => format!("({})", escaped.join("|")),
    }
}

/// Time range and variables for substitution.
#[derive(Debug, Clone)]
pub struct QueryContext {
    pub from_ms: i64,
    pub to_ms: i64,
    pub interval: String,
    pub interval_ms: i64,
    /// name -> rendered value (already an escaped alternation)
    pub vars: BTreeMap<String, String>,
}

impl QueryContext {
    fn builtin(&self, name: &str) -> Option<String> {
        Some(match name {
            "timeFilter" | "__timeFilter" => {
                format!("time >= {}ms and time <= {}ms", self.from_ms, self.to_ms)
            }
            "__interval" | "interval" => self.interval.clone(),
            "__interval_ms" => self.interval_ms.to_string(),
            "__from" => self.from_ms.to_string(),
            "__to" => self.to_ms.to_string(),
            "__range_s" => ((self.to_ms - self.from_ms) / 1000).to_string(),
            "__range_ms" => (self.to_ms - self.from_ms).to_string(),
            "__range" => format!("{}s", (self.to_ms - self.from_ms) / 1000),
            _ => return None,
        })
    }

    fn lookup(&self, name: &str) -> Option<String> {
        self.builtin(name).or_else(|| self.vars.get(name).cloned())
    }

    /// Replaces `$name`, `${name}`, `${name:fmt}` and `[[name]]`; unknown names stay.
    pub fn substitute(&self, query: &str) -> String {
        let mut out = String::with_capacity(query.len());
        let mut rest = query;
        while let Some(pos) = rest.find(['$', '[']) {
            out.push_str(&rest[..pos]);
            let tail = &rest[pos..];
            let (name, len) = if let Some(inner) = tail.strip_prefix("${") {
                match inner.find('}') {
                    Some(end) => {
                        let spec = &inner[..end];
                        (spec.split(':').next().unwrap_or(spec), end + 3)
                    }
                    None => ("", 0),
                }
            } else if let Some(inner) = tail.strip_prefix("[[") {
                match inner.find("]]") {
                    Some(end) => (&inner[..end], end + 4),
                    None => ("", 0),
                }
            } else if let Some(inner) = tail.strip_prefix('$') {
                let end = inner
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(inner.len());
                (&inner[..end], end + 1)
            } else {
                ("", 0)
            };
            match self.lookup(name).filter(|_| len > 0) {
                Some(value) => {
                    out.push_str(&value);
                    rest = &tail[len..];
                }
                None => {
                    let c = tail.chars().next().unwrap_or('$');
                    out.push(c);
                    rest = &tail[c.len_utf8()..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Measurement names after the first FROM of a query (quotes and retention policy removed).
pub fn from_measurement(query: &str) -> Option<String> {
    let lower = query.to_ascii_lowercase();
    let pos = lower.find(" from ")?;
    let word = query[pos + 6..].split_whitespace().next()?;
    let last = word.rsplit('.').next().unwrap_or(word);
    Some(last.trim_matches('"').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> QueryContext {
        let mut vars = BTreeMap::new();
        vars.insert(
            "scenario".to_owned(),
            regex_alternation(&["sync-fresh".to_owned(), "async-reused".to_owned()]),
        );
        QueryContext {
            from_ms: 1000,
            to_ms: 2000,
            interval: "10s".to_owned(),
            interval_ms: 10_000,
            vars,
        }
    }

    #[test]
    fn substitutes_like_grafana() {
        let q = r#"SELECT mean("total_ms") FROM "http_request" WHERE ("scenario" =~ /^$scenario$/ OR x =~ /^${scenario:regex}$/ OR y =~ /[[scenario]]/) AND $timeFilter GROUP BY time($__interval), "scenario" $unknown"#;
        let want = r#"SELECT mean("total_ms") FROM "http_request" WHERE ("scenario" =~ /^(sync\-fresh|async\-reused)$/ OR x =~ /^(sync\-fresh|async\-reused)$/ OR y =~ /(sync\-fresh|async\-reused)/) AND time >= 1000ms and time <= 2000ms GROUP BY time(10s), "scenario" $unknown"#;
        assert_eq!(ctx().substitute(q), want);
    }

    #[test]
    fn finds_measurement() {
        assert_eq!(
            from_measurement(r#"SELECT x FROM "autogen"."http_error" WHERE a"#).as_deref(),
            Some("http_error")
        );
        assert_eq!(
            from_measurement("SHOW TAG VALUES FROM http_request WITH KEY = scenario").as_deref(),
            Some("http_request")
        );
    }
}
