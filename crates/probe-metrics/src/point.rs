//! The [`Point`] type: one measurement with tags, fields and a timestamp.

use std::time::{SystemTime, UNIX_EPOCH};

/// A field value, typed as InfluxDB stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// 64-bit float, written without a suffix (`12.5`).
    Float(f64),
    /// Signed integer, written with an `i` suffix (`42i`).
    Integer(i64),
    /// Unsigned integer, written with a `u` suffix (`42u`).
    UInteger(u64),
    /// Boolean, written as `true` / `false`.
    Boolean(bool),
    /// String, written double-quoted with `"` and `\` escaped.
    String(String),
}

impl From<f64> for FieldValue {
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}

impl From<i64> for FieldValue {
    fn from(v: i64) -> Self {
        Self::Integer(v)
    }
}

impl From<u64> for FieldValue {
    fn from(v: u64) -> Self {
        Self::UInteger(v)
    }
}

impl From<bool> for FieldValue {
    fn from(v: bool) -> Self {
        Self::Boolean(v)
    }
}

impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}

impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

/// One line-protocol point.
///
/// Tags are kept sorted by key (byte order, as InfluxDB prefers); setting a
/// tag or field key twice replaces the earlier value. Fields keep insertion
/// order. Validation happens when encoding (see [`Point::encode_into`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub(crate) measurement: String,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) fields: Vec<(String, FieldValue)>,
    pub(crate) timestamp_ns: i64,
}

impl Point {
    /// A point with no tags and no fields yet.
    pub fn new(measurement: impl Into<String>, timestamp_ns: i64) -> Self {
        Self {
            measurement: measurement.into(),
            tags: Vec::with_capacity(8),
            fields: Vec::with_capacity(8),
            timestamp_ns,
        }
    }

    /// Adds (or replaces) a tag.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        let value = value.into();
        match self.tags.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(i) => self.tags[i].1 = value,
            Err(i) => self.tags.insert(i, (key, value)),
        }
        self
    }

    /// Adds (or replaces, keeping its position) a field.
    #[must_use]
    pub fn field(mut self, key: impl Into<String>, value: impl Into<FieldValue>) -> Self {
        let key = key.into();
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key, value)),
        }
        self
    }

    /// The measurement name.
    pub fn measurement(&self) -> &str {
        &self.measurement
    }

    /// Tags, sorted by key.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Fields, in insertion order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Timestamp in nanoseconds since the Unix epoch.
    pub fn timestamp_ns(&self) -> i64 {
        self.timestamp_ns
    }
}

/// Wall-clock time in nanoseconds since the Unix epoch (negative before it;
/// saturates at the `i64` limits, i.e. in the year 2262).
pub fn now_ns() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}
