//! The targets file (`--targets-file`, `PROBE_TARGETS_FILE`): TOML with an
//! optional `[defaults]` table and `[[target]]` tables. See
//! `targets.example.toml` for every key.
//!
//! `${VAR}` in `url`, header values and `body` expands from the environment
//! when the file is read. Header values and bodies are secrets: no error line
//! or `Debug` output shows them; logs show the URL as written in the file
//! (before expansion, without user name and password).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use toml::Spanned;

use crate::expect::StatusPattern;
use crate::http_mode::HttpMode;
use crate::target::{RequestSpec, Target};

/// Methods a target may use.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Tags the probes write themselves (and Telegraf's histogram adds): extra
/// tags may not use these keys.
pub fn reserved_tags() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = crate::schema::ALL
        .iter()
        .flat_map(|m| m.tags.iter().map(|k| k.name))
        .collect();
    keys.extend(["le", "gt"]);
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// A targets file that cannot be used: `PATH:LINE:COLUMN: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("targets file {place}: {message}")]
pub struct FileError {
    place: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    defaults: Option<Defaults>,
    #[serde(default, rename = "target")]
    targets: Vec<Spanned<RawTarget>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    method: Option<Spanned<String>>,
    headers: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    expect_status: Option<Vec<Spanned<StatusValue>>>,
    timeout: Option<Spanned<String>>,
    http: Option<HttpMode>,
    tags: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Spanned<String>,
    url: Spanned<String>,
    method: Option<Spanned<String>>,
    headers: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    body: Option<Spanned<String>>,
    body_file: Option<Spanned<String>>,
    expect_status: Option<Vec<Spanned<StatusValue>>>,
    expect_body: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    http: Option<HttpMode>,
    tags: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StatusValue {
    Code(i64),
    Text(String),
}

impl FileError {
    /// The file holds no `[[target]]` and no other target was given.
    pub fn no_targets(path: &Path) -> Self {
        Self {
            place: path.display().to_string(),
            message: "no [[target]] table and no other targets: expected at least one [[target]] with name and url".into(),
        }
    }
}

/// Reads and checks the file; `env` looks up `${VAR}`.
pub fn read(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Target>, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        place: path.display().to_string(),
        message: format!("cannot read it: {}", io_reason(&e)),
    })?;
    parse(path, &text, env)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            "no such file; expected a TOML file of [[target]] tables".into()
        }
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::InvalidData => "not UTF-8 text; expected a TOML file".into(),
        _ => e.to_string(),
    }
}

/// Parses the text of the file at `path`.
pub fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Target>, FileError> {
    let at = |span: Range<usize>, message: String| FileError {
        place: place(path, text, span.start),
        message,
    };
    let file: File = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().replace('\n', " ");
        at(e.span().unwrap_or(0..0), message)
    })?;
    let defaults = file.defaults.unwrap_or_default();
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let reader = Reader {
        env,
        base_dir,
        at: &at,
    };
    file.targets
        .into_iter()
        .map(|t| reader.target(t.into_inner(), &defaults))
        .collect()
}

/// `PATH:LINE:COLUMN` of a byte offset (both 1-based, columns in characters).
fn place(path: &Path, text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{}:{line}:{column}", path.display())
}

struct Reader<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    base_dir: PathBuf,
    at: &'a dyn Fn(Range<usize>, String) -> FileError,
}

impl Reader<'_> {
    fn fail<T>(&self, span: Range<usize>, message: impl Into<String>) -> Result<T, FileError> {
        Err((self.at)(span, message.into()))
    }

    /// Expands `${VAR}`; `what` names the key in errors (never the value).
    fn expand(&self, value: &Spanned<String>, what: &str) -> Result<String, FileError> {
        let text = value.get_ref();
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return self.fail(
                    value.span(),
                    format!("{what}: unterminated ${{ : expected ${{NAME}}"),
                );
            };
            let name = &after[..end];
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return self.fail(
                    value.span(),
                    format!("{what}: bad variable name {name:?}: expected ${{NAME}} with letters, digits and _"),
                );
            }
            match (self.env)(name) {
                Some(v) => out.push_str(&v),
                None => {
                    return self.fail(
                        value.span(),
                        format!("{what}: environment variable {name} is not set"),
                    );
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn duration(&self, value: &Spanned<String>) -> Result<Duration, FileError> {
        cli_support::args::positive_duration(value.get_ref()).or_else(|expected| {
            self.fail(
                value.span(),
                format!("timeout: bad duration {:?}: {expected}", value.get_ref()),
            )
        })
    }

    fn method(&self, value: &Spanned<String>) -> Result<reqwest::Method, FileError> {
        let upper = value.get_ref().trim().to_ascii_uppercase();
        match METHODS.iter().find(|m| **m == upper) {
            Some(m) => Ok(m.parse().unwrap_or_default()),
            None => self.fail(
                value.span(),
                format!(
                    "method: unsupported method {:?}: expected one of {}",
                    value.get_ref(),
                    METHODS.join(", ")
                ),
            ),
        }
    }

    fn statuses(&self, values: &[Spanned<StatusValue>]) -> Result<Vec<StatusPattern>, FileError> {
        values
            .iter()
            .map(|v| {
                let (parsed, shown) = match v.get_ref() {
                    StatusValue::Code(c) => (StatusPattern::code(*c), c.to_string()),
                    StatusValue::Text(t) => (StatusPattern::parse(t), format!("{t:?}")),
                };
                parsed.map_or_else(
                    || {
                        self.fail(
                            v.span(),
                            format!("expect_status: bad status {shown}: expected a code from 100 to 599 (404) or a class \"1xx\" to \"5xx\""),
                        )
                    },
                    Ok,
                )
            })
            .collect()
    }

    fn headers(
        &self,
        into: &mut HeaderMap,
        headers: &BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> Result<(), FileError> {
        for (name, value) in headers {
            let Ok(header) = HeaderName::from_bytes(name.get_ref().as_bytes()) else {
                return self.fail(
                    name.span(),
                    format!(
                        "headers: bad header name {:?}: expected a token like Content-Type",
                        name.get_ref()
                    ),
                );
            };
            let what = format!("headers.{}", name.get_ref());
            let expanded = self.expand(value, &what)?;
            let Ok(mut value_) = HeaderValue::from_str(&expanded) else {
                return self.fail(
                    value.span(),
                    format!("{what}: the value is not a valid header value (control characters or non-ASCII)"),
                );
            };
            value_.set_sensitive(true);
            into.insert(header, value_);
        }
        Ok(())
    }

    fn tags(
        &self,
        into: &mut BTreeMap<String, String>,
        tags: &BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> Result<(), FileError> {
        let reserved = reserved_tags();
        for (key, value) in tags {
            if reserved.contains(&key.get_ref().as_str()) {
                return self.fail(
                    key.span(),
                    format!(
                        "tags: key {:?} is one of the probes' own tags ({}): choose another key",
                        key.get_ref(),
                        reserved.join(", ")
                    ),
                );
            }
            let encodable = probe_metrics::Point::new("http_request", 0)
                .tag(key.get_ref().as_str(), value.get_ref().as_str())
                .field("total_ms", 0.0)
                .to_line();
            if key.get_ref().trim().is_empty()
                || value.get_ref().trim().is_empty()
                || encodable.is_err()
            {
                return self.fail(
                    key.span(),
                    format!(
                        "tags: {:?} = {:?} cannot be a tag: expected a non-empty key and value without newlines",
                        key.get_ref(),
                        value.get_ref()
                    ),
                );
            }
            into.insert(key.get_ref().clone(), value.get_ref().clone());
        }
        Ok(())
    }

    fn body(&self, t: &RawTarget) -> Result<Option<Vec<u8>>, FileError> {
        match (&t.body, &t.body_file) {
            (Some(_), Some(file)) => self.fail(
                file.span(),
                "body_file: give either body or body_file, not both",
            ),
            (Some(body), None) => Ok(Some(self.expand(body, "body")?.into_bytes())),
            (None, Some(file)) => {
                let path = self.base_dir.join(file.get_ref());
                std::fs::read(&path).map(Some).or_else(|e| {
                    self.fail(
                        file.span(),
                        format!(
                            "body_file: cannot read {}: {}",
                            path.display(),
                            io_reason(&e)
                        ),
                    )
                })
            }
            (None, None) => Ok(None),
        }
    }

    fn target(&self, t: RawTarget, d: &Defaults) -> Result<Target, FileError> {
        let name = t.name.get_ref().trim();
        if name.is_empty() {
            return self.fail(
                t.name.span(),
                "name: expected a non-empty name (the target tag)",
            );
        }
        let url = self.expand(&t.url, "url")?;
        let mut target = Target::from_parts(Some(name), &url).or_else(|e| {
            // The reason only: the expanded URL may hold a secret.
            self.fail(t.url.span(), format!("url: {}", e.reason()))
        })?;
        let template = t.url.get_ref();
        let mut spec = RequestSpec {
            url_template: template.contains("${").then(|| template.clone()),
            ..RequestSpec::default()
        };
        if let Some(m) = t.method.as_ref().or(d.method.as_ref()) {
            spec.method = self.method(m)?;
        }
        if let Some(h) = &d.headers {
            self.headers(&mut spec.headers, h)?;
        }
        if let Some(h) = &t.headers {
            self.headers(&mut spec.headers, h)?;
        }
        spec.body = self.body(&t)?;
        if let Some(s) = t.expect_status.as_ref().or(d.expect_status.as_ref()) {
            spec.expect.status = self.statuses(s)?;
        }
        if let Some(re) = &t.expect_body {
            spec.expect.body = Some(regex::bytes::Regex::new(re.get_ref()).or_else(|e| {
                let first = e.to_string();
                let reason = first.lines().last().unwrap_or("invalid").trim();
                let reason = reason.trim_start_matches("error: ");
                self.fail(
                    re.span(),
                    format!("expect_body: bad regex {:?}: {reason}", re.get_ref()),
                )
            })?);
        }
        if let Some(timeout) = t.timeout.as_ref().or(d.timeout.as_ref()) {
            spec.timeout = Some(self.duration(timeout)?);
        }
        spec.http = t.http.or(d.http);
        let mut tags = BTreeMap::new();
        if let Some(tg) = &d.tags {
            self.tags(&mut tags, tg)?;
        }
        if let Some(tg) = &t.tags {
            self.tags(&mut tags, tg)?;
        }
        spec.tags = tags.into_iter().collect();
        target.request = spec;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "HOST" => Some("127.0.0.1:9".into()),
            _ => None,
        }
    }

    fn parse_str(text: &str) -> Result<Vec<Target>, String> {
        parse(Path::new("t.toml"), text, &env).map_err(|e| e.to_string())
    }

    #[test]
    fn full_target_with_defaults() {
        let targets = parse_str(
            r#"
[defaults]
timeout = "10s"
headers = { "User-Agent" = "x/1" }
tags = { team = "core" }

[[target]]
name = "orders"
url = "http://${HOST}/v1?limit=1"
method = "post"
headers = { Authorization = "Bearer ${TOKEN}" }
body = '{"t": "${TOKEN}"}'
expect_status = ["2xx", 404]
expect_body = "ok"
timeout = "2s"
http = "2"
tags = { tier = "critical" }
"#,
        )
        .unwrap();
        let t = &targets[0];
        assert_eq!(t.name, "orders");
        assert_eq!(t.url.as_str(), "http://127.0.0.1:9/v1?limit=1");
        assert_eq!(t.shown_url(), "http://${HOST}/v1?limit=1");
        let r = &t.request;
        assert_eq!(r.method, reqwest::Method::POST);
        assert_eq!(r.headers["authorization"], "Bearer s3cret");
        assert_eq!(r.headers["user-agent"], "x/1");
        assert_eq!(r.body.as_deref(), Some(&br#"{"t": "s3cret"}"#[..]));
        assert_eq!(
            r.expect.status,
            [StatusPattern::Class(2), StatusPattern::Code(404)]
        );
        assert_eq!(r.timeout, Some(Duration::from_secs(2)));
        assert_eq!(r.http, Some(HttpMode::Http2));
        assert_eq!(
            r.tags,
            [
                ("team".to_owned(), "core".to_owned()),
                ("tier".to_owned(), "critical".to_owned())
            ]
        );
        let shown = format!("{t:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let err = parse_str("[[target]]\nname = \"a\"\nurl = \"http://x/\"\nmethod = \"FETCH\"\n")
            .unwrap_err();
        assert!(
            err.starts_with("targets file t.toml:4:10: method: unsupported"),
            "{err}"
        );
        let err =
            parse_str("[[target]]\nname = \"a\"\nurl = \"http://x/\"\ncolour = 1\n").unwrap_err();
        assert!(
            err.starts_with("targets file t.toml:4:1: unknown field `colour`"),
            "{err}"
        );
        let err = parse_str(
            "[[target]]\nname = \"a\"\nurl = \"http://x/\"\nheaders = { A = \"${NOPE}\" }\n",
        )
        .unwrap_err();
        assert!(
            err.contains(":4:17: headers.A: environment variable NOPE is not set"),
            "{err}"
        );
        let err =
            parse_str("[[target]]\nname = \"a\"\nurl = \"http://x/\"\ntags = { target = \"b\" }\n")
                .unwrap_err();
        assert!(
            err.contains("key \"target\" is one of the probes' own tags"),
            "{err}"
        );
    }

    #[test]
    fn reserved_tags_cover_the_schema() {
        let r = reserved_tags();
        for key in [
            "scenario",
            "target",
            "domain",
            "method",
            "error_class",
            "http_version",
            "le",
        ] {
            assert!(r.contains(&key), "{key}");
        }
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    /// The shipped example parses (with its variable set) and uses every key.
    #[test]
    fn targets_example_toml_is_valid() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../targets.example.toml"
        ));
        let text = std::fs::read_to_string(path).expect("targets.example.toml");
        let env = |name: &str| (name == "ORDERS_TOKEN").then(|| "t".to_owned());
        let targets = parse(path, &text, &env).expect("valid example");
        assert_eq!(targets.len(), 2);
        let orders = &targets[1].request;
        assert_eq!(orders.method, reqwest::Method::POST);
        assert!(orders.body.is_some() && orders.expect.body.is_some());
        assert_eq!(orders.http, Some(HttpMode::Auto));
        for key in [
            "name",
            "url",
            "method",
            "headers",
            "body",
            "body_file",
            "expect_status",
            "expect_body",
            "timeout",
            "http",
            "tags",
        ] {
            assert!(text.contains(&format!("{key} =")), "{key} documented");
        }
    }
}
