//! The Grafana alert rules (`grafana/alerting/rules.json`, rendered with the thresholds of an
//! env file as `scripts/stack.sh up` does) evaluated against a real InfluxDB the way Grafana
//! evaluates them: each InfluxQL query over its relative time range (`$timeFilter` expanded
//! to `time >= FROMms and time <= TOms`), each series reduced to one number by the rule's
//! reducer (`last`, `max`, `min`, `mean`, `sum`, `count`) in the rule's mode (`dropNN`: nulls
//! and NaN dropped first; `strict`: any NaN makes NaN), then the condition, a math
//! expression whose binary operations pair series whose labels are equal or one a subset of
//! the other (labelless items pair with everything), comparisons giving 1 or 0. An instance
//! fires when its condition value is non-zero. No series for the condition is NoData, which
//! becomes the rule's `noDataState`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail, ensure};
use serde_json::Value;

use crate::influxdb::{InfluxServer, series};

pub type Labels = BTreeMap<String, String>;

/// One query of a rule.
#[derive(Debug, Clone)]
pub struct RuleQuery {
    pub ref_id: String,
    pub query: String,
    pub from_s: i64,
    pub to_s: i64,
}

/// A server-side expression of a rule.
#[derive(Debug, Clone)]
pub enum Expr {
    Reduce {
        input: String,
        reducer: String,
        mode: String,
    },
    Math(String),
}

/// One alert rule as provisioned.
#[derive(Debug, Clone)]
pub struct Rule {
    pub uid: String,
    pub title: String,
    pub condition: String,
    pub no_data_state: String,
    pub queries: Vec<RuleQuery>,
    /// Expressions in file order (refId, expression).
    pub exprs: Vec<(String, Expr)>,
    pub labels: Labels,
}

/// KEY=VALUE lines of an env file.
pub fn env_file(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// Substitutes each `${ALERT_*}` with its value in `env`, which must be a number.
pub fn render(template: &str, env: &BTreeMap<String, String>) -> anyhow::Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${ALERT_") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .with_context(|| format!("unclosed placeholder in {:?}", &rest[start..]))?;
        let key = &rest[start + 2..start + end];
        let value = env
            .get(key)
            .with_context(|| format!("{key} is not in the env file"))?;
        ensure!(
            value.parse::<f64>().is_ok_and(|v| v >= 0.0),
            "{key}={value:?}: expected a non-negative number"
        );
        out.push_str(value);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses the rendered provisioning file.
pub fn parse_rules(rendered: &str) -> anyhow::Result<Vec<Rule>> {
    let v: Value = serde_json::from_str(rendered).context("rules file is not JSON")?;
    let mut rules = Vec::new();
    for group in v["groups"].as_array().context("no groups")? {
        for r in group["rules"].as_array().context("group without rules")? {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            let mut rule = Rule {
                uid: s(&r["uid"]),
                title: s(&r["title"]),
                condition: s(&r["condition"]),
                no_data_state: s(&r["noDataState"]),
                queries: Vec::new(),
                exprs: Vec::new(),
                labels: r["labels"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
                    .unwrap_or_default(),
            };
            for d in r["data"].as_array().context("rule without data")? {
                let ref_id = s(&d["refId"]);
                let model = &d["model"];
                if d["datasourceUid"] == "__expr__" {
                    let e = match model["type"].as_str() {
                        Some("reduce") => Expr::Reduce {
                            input: s(&model["expression"]),
                            reducer: s(&model["reducer"]),
                            mode: model["settings"]["mode"]
                                .as_str()
                                .unwrap_or("strict")
                                .to_owned(),
                        },
                        Some("math") => Expr::Math(s(&model["expression"])),
                        other => bail!("{}: expression type {other:?} not evaluated", rule.uid),
                    };
                    rule.exprs.push((ref_id, e));
                } else {
                    rule.queries.push(RuleQuery {
                        ref_id,
                        query: s(&model["query"]),
                        from_s: d["relativeTimeRange"]["from"].as_i64().unwrap_or(0),
                        to_s: d["relativeTimeRange"]["to"].as_i64().unwrap_or(0),
                    });
                }
            }
            rules.push(rule);
        }
    }
    Ok(rules)
}

/// Loads `grafana/alerting/rules.json` under `root` rendered with `env_path`'s values.
pub fn load(root: &Path, env_path: &Path) -> anyhow::Result<Vec<Rule>> {
    load_with(root, &env_file(env_path)?)
}

/// Loads `grafana/alerting/rules.json` under `root` rendered with `env`.
pub fn load_with(root: &Path, env: &BTreeMap<String, String>) -> anyhow::Result<Vec<Rule>> {
    let path = root.join("grafana").join("alerting").join("rules.json");
    let template =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    parse_rules(&render(&template, env)?)
}

/// A labelled series or number.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<T> {
    pub labels: Labels,
    pub value: T,
}

/// What one evaluation found.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Series returned per query refId.
    pub series: BTreeMap<String, Vec<Item<Vec<Option<f64>>>>>,
    /// Reduced numbers per expression refId.
    pub numbers: BTreeMap<String, Vec<Item<f64>>>,
    /// None: NoData (the condition had no series).
    pub condition: Option<Vec<Item<f64>>>,
}

impl Evaluation {
    /// Label sets of the firing instances, after the rule's noDataState.
    pub fn firing(&self, rule: &Rule) -> Vec<Labels> {
        match &self.condition {
            Some(items) => items
                .iter()
                .filter(|i| i.value != 0.0 && !i.value.is_nan())
                .map(|i| i.labels.clone())
                .collect(),
            None if rule.no_data_state == "Alerting" => vec![Labels::new()],
            None => Vec::new(),
        }
    }

    /// The instance of the condition with this label, if any.
    pub fn value_for(&self, refid: &str, key: &str, value: &str) -> Option<f64> {
        self.numbers
            .get(refid)?
            .iter()
            .find(|i| i.labels.get(key).map(String::as_str) == Some(value))
            .map(|i| i.value)
    }
}

/// Runs the rule at `now_ms` against `db`.
pub fn evaluate(
    rule: &Rule,
    influx: &InfluxServer,
    db: &str,
    now_ms: i64,
) -> anyhow::Result<Evaluation> {
    let mut eval = Evaluation {
        series: BTreeMap::new(),
        numbers: BTreeMap::new(),
        condition: None,
    };
    for q in &rule.queries {
        let filter = format!(
            "time >= {}ms and time <= {}ms",
            now_ms - q.from_s * 1000,
            now_ms - q.to_s * 1000
        );
        let text = q.query.replace("$timeFilter", &filter);
        let v = influx
            .query(db, &text)
            .with_context(|| format!("{} {}", rule.uid, q.ref_id))?;
        let items = series(&v)
            .into_iter()
            .map(|s| Item {
                labels: s.tags.clone(),
                value: s
                    .values
                    .iter()
                    .map(|row| row.get(1).and_then(Value::as_f64))
                    .collect(),
            })
            .collect();
        eval.series.insert(q.ref_id.clone(), items);
    }
    for (ref_id, e) in &rule.exprs {
        let items = match e {
            Expr::Reduce {
                input,
                reducer,
                mode,
            } => {
                let input = eval
                    .series
                    .get(input)
                    .with_context(|| format!("{}: reduce of unknown {input}", rule.uid))?;
                input
                    .iter()
                    .map(|s| {
                        Ok(Item {
                            labels: s.labels.clone(),
                            value: reduce(&s.value, reducer, mode)?,
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?
            }
            Expr::Math(text) => {
                math(text, &eval.numbers).with_context(|| format!("{}: {text}", rule.uid))?
            }
        };
        eval.numbers.insert(ref_id.clone(), items);
    }
    let cond = eval
        .numbers
        .get(&rule.condition)
        .with_context(|| format!("{}: condition {} not computed", rule.uid, rule.condition))?;
    eval.condition = (!cond.is_empty()).then(|| cond.clone());
    Ok(eval)
}

/// Grafana's reduce of one series.
pub fn reduce(values: &[Option<f64>], reducer: &str, mode: &str) -> anyhow::Result<f64> {
    let vals: Vec<f64> = match mode {
        "dropNN" => values
            .iter()
            .flatten()
            .copied()
            .filter(|v| !v.is_nan())
            .collect(),
        "strict" | "" => values.iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
        other => bail!("reduce mode {other:?} not evaluated"),
    };
    if vals.is_empty() {
        return Ok(if reducer == "count" { 0.0 } else { f64::NAN });
    }
    Ok(match reducer {
        "last" => vals[vals.len() - 1],
        "max" => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "min" => vals.iter().copied().fold(f64::INFINITY, f64::min),
        "sum" => vals.iter().sum(),
        "mean" => vals.iter().sum::<f64>() / vals.len() as f64,
        "count" => vals.len() as f64,
        other => bail!("reducer {other:?} not evaluated"),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ref(String),
    Num(f64),
    Op(String),
    Open,
    Close,
}

fn tokens(text: &str) -> anyhow::Result<Vec<Tok>> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '$' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                out.push(Tok::Ref(chars[start..i].iter().collect()));
            }
            '0'..='9' | '.' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Tok::Num(s.parse().with_context(|| format!("number {s}"))?));
            }
            '<' | '>' | '=' | '!' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                if ["<=", ">=", "==", "!="].contains(&two.as_str()) {
                    out.push(Tok::Op(two));
                    i += 2;
                } else {
                    out.push(Tok::Op(c.to_string()));
                    i += 1;
                }
            }
            '+' | '-' | '*' | '/' => {
                out.push(Tok::Op(c.to_string()));
                i += 1;
            }
            other => bail!("unexpected {other:?}"),
        }
    }
    Ok(out)
}

/// A math operand: a plain number or a set of labelled numbers.
#[derive(Debug, Clone)]
enum Operand {
    Scalar(f64),
    Set(Vec<Item<f64>>),
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a BTreeMap<String, Vec<Item<f64>>>,
}

impl Parser<'_> {
    fn peek_op(&self, ops: &[&str]) -> Option<String> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(o)) if ops.contains(&o.as_str()) => Some(o.clone()),
            _ => None,
        }
    }

    fn compare(&mut self) -> anyhow::Result<Operand> {
        let mut left = self.arith()?;
        while let Some(op) = self.peek_op(&["<", ">", "<=", ">=", "==", "!="]) {
            self.pos += 1;
            let right = self.arith()?;
            left = binary(&left, &right, &op)?;
        }
        Ok(left)
    }

    fn arith(&mut self) -> anyhow::Result<Operand> {
        let mut left = self.term()?;
        while let Some(op) = self.peek_op(&["+", "-"]) {
            self.pos += 1;
            let right = self.term()?;
            left = binary(&left, &right, &op)?;
        }
        Ok(left)
    }

    fn term(&mut self) -> anyhow::Result<Operand> {
        let mut left = self.atom()?;
        while let Some(op) = self.peek_op(&["*", "/"]) {
            self.pos += 1;
            let right = self.atom()?;
            left = binary(&left, &right, &op)?;
        }
        Ok(left)
    }

    fn atom(&mut self) -> anyhow::Result<Operand> {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Num(n)) => Ok(Operand::Scalar(n)),
            Some(Tok::Ref(r)) => Ok(Operand::Set(
                self.vars
                    .get(&r)
                    .with_context(|| format!("${r} is not an earlier expression"))?
                    .clone(),
            )),
            Some(Tok::Open) => {
                let inner = self.compare()?;
                ensure!(self.toks.get(self.pos) == Some(&Tok::Close), "missing )");
                self.pos += 1;
                Ok(inner)
            }
            other => bail!("unexpected {other:?}"),
        }
    }
}

fn apply(a: f64, b: f64, op: &str) -> f64 {
    let bool = |v: bool| if v { 1.0 } else { 0.0 };
    match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" => a / b,
        "<" => bool(a < b),
        ">" => bool(a > b),
        "<=" => bool(a <= b),
        ">=" => bool(a >= b),
        "==" => bool(a == b),
        _ => bool(a != b),
    }
}

fn subset(a: &Labels, b: &Labels) -> bool {
    a.iter().all(|(k, v)| b.get(k) == Some(v))
}

fn binary(a: &Operand, b: &Operand, op: &str) -> anyhow::Result<Operand> {
    Ok(match (a, b) {
        (Operand::Scalar(x), Operand::Scalar(y)) => Operand::Scalar(apply(*x, *y, op)),
        (Operand::Set(s), Operand::Scalar(y)) => Operand::Set(
            s.iter()
                .map(|i| Item {
                    labels: i.labels.clone(),
                    value: apply(i.value, *y, op),
                })
                .collect(),
        ),
        (Operand::Scalar(x), Operand::Set(s)) => Operand::Set(
            s.iter()
                .map(|i| Item {
                    labels: i.labels.clone(),
                    value: apply(*x, i.value, op),
                })
                .collect(),
        ),
        (Operand::Set(sa), Operand::Set(sb)) => {
            let mut out = Vec::new();
            for ia in sa {
                for ib in sb {
                    if subset(&ia.labels, &ib.labels) || subset(&ib.labels, &ia.labels) {
                        let labels = if ia.labels.len() >= ib.labels.len() {
                            ia.labels.clone()
                        } else {
                            ib.labels.clone()
                        };
                        out.push(Item {
                            labels,
                            value: apply(ia.value, ib.value, op),
                        });
                    }
                }
            }
            Operand::Set(out)
        }
    })
}

/// Evaluates a math expression over the numbers computed so far.
pub fn math(text: &str, vars: &BTreeMap<String, Vec<Item<f64>>>) -> anyhow::Result<Vec<Item<f64>>> {
    let mut p = Parser {
        toks: tokens(text)?,
        pos: 0,
        vars,
    };
    let result = p.compare()?;
    ensure!(p.pos == p.toks.len(), "trailing tokens");
    Ok(match result {
        Operand::Set(s) => s,
        Operand::Scalar(v) => vec![Item {
            labels: Labels::new(),
            value: v,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(labels: &[(&str, &str)], value: f64) -> Item<f64> {
        Item {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value,
        }
    }

    #[test]
    fn reducers_and_modes() {
        let s = [Some(1.0), None, Some(f64::NAN), Some(4.0)];
        assert_eq!(reduce(&s, "last", "dropNN").unwrap(), 4.0);
        assert_eq!(reduce(&s, "max", "dropNN").unwrap(), 4.0);
        assert_eq!(reduce(&s, "mean", "dropNN").unwrap(), 2.5);
        assert_eq!(reduce(&s, "count", "dropNN").unwrap(), 2.0);
        assert!(reduce(&s, "sum", "strict").unwrap().is_nan());
        assert!(reduce(&[None], "last", "dropNN").unwrap().is_nan());
    }

    #[test]
    fn math_pairs_by_label_subsets() {
        let mut vars = BTreeMap::new();
        vars.insert(
            "C".to_owned(),
            vec![item(&[("target", "a")], 3.0), item(&[("target", "b")], 1.0)],
        );
        vars.insert("D".to_owned(), vec![item(&[], 10.0)]);
        let out = math("$C / $D > 0.2", &vars).unwrap();
        assert_eq!(
            out,
            vec![item(&[("target", "a")], 1.0), item(&[("target", "b")], 0.0)]
        );
        assert_eq!(
            math("($C + 1) * 2 <= 4", &vars).unwrap()[1],
            item(&[("target", "b")], 1.0)
        );
        assert!(math("$X > 1", &vars).is_err());
    }

    #[test]
    fn render_needs_numbers() {
        let mut env = BTreeMap::new();
        env.insert("ALERT_A".to_owned(), "0.5".to_owned());
        assert_eq!(render("x ${ALERT_A} y", &env).unwrap(), "x 0.5 y");
        env.insert("ALERT_A".to_owned(), "1s".to_owned());
        assert!(render("${ALERT_A}", &env).is_err());
        assert!(render("${ALERT_B}", &env).is_err());
    }
}
