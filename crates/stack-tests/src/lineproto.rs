//! A tiny InfluxDB line protocol encoder for hand-made points.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue {
    Float(f64),
    Int(i64),
}

/// One point: measurement, tags, fields, nanosecond timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub measurement: String,
    pub tags: Vec<(String, String)>,
    pub fields: Vec<(String, FieldValue)>,
    pub time_ns: i64,
}

impl Point {
    pub fn new(measurement: &str, time_ns: i64) -> Self {
        Self {
            measurement: measurement.to_owned(),
            tags: Vec::new(),
            fields: Vec::new(),
            time_ns,
        }
    }

    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn float(mut self, key: &str, value: f64) -> Self {
        self.fields.push((key.to_owned(), FieldValue::Float(value)));
        self
    }

    pub fn int(mut self, key: &str, value: i64) -> Self {
        self.fields.push((key.to_owned(), FieldValue::Int(value)));
        self
    }

    /// The tag value of `key`, if set.
    pub fn tag_value(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The float field `key`, if set.
    pub fn float_value(&self, key: &str) -> Option<f64> {
        self.fields.iter().find_map(|(k, v)| match v {
            FieldValue::Float(f) if k == key => Some(*f),
            _ => None,
        })
    }

    /// One line, without the trailing newline. Tags are sorted as InfluxDB prefers.
    pub fn encode(&self) -> String {
        let mut line = escape(&self.measurement, &[',', ' ']);
        let mut tags = self.tags.clone();
        tags.sort();
        for (k, v) in &tags {
            let _ = write!(
                line,
                ",{}={}",
                escape(k, &[',', '=', ' ']),
                escape(v, &[',', '=', ' '])
            );
        }
        for (i, (k, v)) in self.fields.iter().enumerate() {
            line.push(if i == 0 { ' ' } else { ',' });
            line.push_str(&escape(k, &[',', '=', ' ']));
            match v {
                FieldValue::Float(f) => {
                    let _ = write!(line, "={f:?}");
                }
                FieldValue::Int(n) => {
                    let _ = write!(line, "={n}i");
                }
            }
        }
        let _ = write!(line, " {}", self.time_ns);
        line
    }
}

fn escape(s: &str, special: &[char]) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' || special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_escaped_line() {
        let p = Point::new("http_request", 17)
            .tag("target", "a b")
            .tag("domain", "x,y")
            .float("total_ms", 5.0)
            .int("status_code", 200);
        assert_eq!(
            p.encode(),
            r"http_request,domain=x\,y,target=a\ b total_ms=5.0,status_code=200i 17"
        );
    }
}
