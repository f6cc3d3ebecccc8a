//! Exact InfluxDB line protocol encoding.
//!
//! One point becomes one line:
//! `measurement[,tag_key=tag_value...] field_key=field_value[,...] timestamp_ns\n`
//!
//! # Escaping
//!
//! | part                  | escaped with `\`        |
//! |-----------------------|-------------------------|
//! | measurement           | `,` and space           |
//! | tag keys, tag values, field keys | `,`, `=` and space |
//! | string field values   | `"` and `\` (always)    |
//!
//! In names (everything except string field values) a backslash is written
//! as `\\` only when the next character is one that the part escapes or is
//! itself a backslash; any other backslash is written as is. Parsers read
//! `\\` as one backslash and a backslash before an ordinary character as a
//! literal, so both forms decode to the original text, and common names such
//! as `C:\temp` look the same in every parser.
//!
//! Floats are written in the shortest form that parses back to the same
//! value, always with a `.` or an exponent (`12.5`, `1.0`, `1e-7`,
//! `2.5e+20`), so a whole float never looks like an integer. Integers get
//! `i`, unsigned integers `u`.
//!
//! # Refused input ([`EncodeError`])
//!
//! - an empty measurement, tag key, tag value or field key; a point with no
//!   fields;
//! - NaN and ±infinity (line protocol has no syntax for them);
//! - `\n`, `\r` or tab in the measurement, a tag key, a tag value or a field
//!   key: a newline ends the line and a tab is a separator; neither has an
//!   escape;
//! - a NUL character in the measurement (the reference parser stops there);
//! - a measurement starting with `#` (the line would be read as a comment);
//! - a measurement, tag key, tag value or field key ending with a backslash:
//!   InfluxDB's parsers reject such names whatever the escaping.
//!
//! String field values may contain anything, newlines included: inside the
//! double quotes a newline does not end the line, and the reference parser
//! (`influxdb_line_protocol`, the port of InfluxDB's Go parser) reads it back
//! unchanged, which the property tests check.

use crate::point::{FieldValue, Point};

/// Which part of a point a bad name or value is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The measurement name.
    Measurement,
    /// A tag key.
    TagKey,
    /// The value of the tag with this key.
    TagValue(String),
    /// A field key.
    FieldKey,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Measurement => f.write_str("measurement"),
            Self::TagKey => f.write_str("tag key"),
            Self::TagValue(key) => write!(f, "value of tag {key:?}"),
            Self::FieldKey => f.write_str("field key"),
        }
    }
}

/// Why a point cannot be written as line protocol.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// The measurement name is empty.
    #[error("measurement is empty")]
    EmptyMeasurement,
    /// A tag key is empty.
    #[error("tag key is empty (tag value {value:?})")]
    EmptyTagKey {
        /// The value of the tag with the empty key.
        value: String,
    },
    /// A tag value is empty.
    #[error("value of tag {key:?} is empty; omit the tag instead")]
    EmptyTagValue {
        /// The tag key.
        key: String,
    },
    /// A field key is empty.
    #[error("field key is empty")]
    EmptyFieldKey,
    /// The point has no fields.
    #[error("point {measurement:?} has no fields; at least one is required")]
    NoFields {
        /// The measurement name.
        measurement: String,
    },
    /// A float field is NaN or infinite.
    #[error("field {key:?} is {value}; line protocol has no NaN or infinity")]
    NonFiniteFloat {
        /// The field key.
        key: String,
        /// The offending value.
        value: f64,
    },
    /// A name contains a character line protocol cannot carry there.
    #[error("{part} {text:?} contains {ch:?}, which line protocol cannot carry there")]
    UnsupportedChar {
        /// Where the text is.
        part: Part,
        /// The offending text.
        text: String,
        /// The character.
        ch: char,
    },
    /// A name ends with a backslash, which InfluxDB parsers reject.
    #[error("{part} {text:?} ends with a backslash, which line protocol parsers reject")]
    TrailingBackslash {
        /// Where the text is.
        part: Part,
        /// The offending text.
        text: String,
    },
    /// The measurement starts with `#`, so the line would be a comment.
    #[error("measurement {0:?} starts with '#', which parsers read as a comment line")]
    MeasurementStartsWithHash(String),
}

/// Byte class: escaped in tag keys, tag values and field keys.
const ESC_KEY: u8 = 1;
/// Byte class: escaped in the measurement.
const ESC_MEASUREMENT: u8 = 2;
/// Byte class: refused in every name (`\n`, `\r`, tab).
const REFUSED: u8 = 4;
/// Byte class: refused in the measurement (NUL).
const REFUSED_MEASUREMENT: u8 = 8;
/// Byte class: backslash.
const BACKSLASH: u8 = 16;

/// Class bits of every byte, so each scan is one table lookup per byte.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b',' as usize] = ESC_KEY | ESC_MEASUREMENT;
    t[b' ' as usize] = ESC_KEY | ESC_MEASUREMENT;
    t[b'=' as usize] = ESC_KEY;
    t[b'\n' as usize] = REFUSED;
    t[b'\r' as usize] = REFUSED;
    t[b'\t' as usize] = REFUSED;
    t[0] = REFUSED_MEASUREMENT;
    t[b'\\' as usize] = BACKSLASH;
    t
};

fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

impl Point {
    /// Appends this point as exactly one line, including the trailing `\n`.
    /// On error nothing is appended.
    pub fn encode_into(&self, out: &mut String) -> Result<(), EncodeError> {
        self.validate()?;
        let start = out.len();
        let written = self.write(out);
        if written.is_err() {
            out.truncate(start);
        }
        written
    }

    /// Writes the validated point; names are checked for refused characters
    /// while they are written (one scan each), so the caller truncates on error.
    fn write(&self, out: &mut String) -> Result<(), EncodeError> {
        let measurement_refused = REFUSED | REFUSED_MEASUREMENT;
        write_name(
            out,
            &self.measurement,
            ESC_MEASUREMENT,
            measurement_refused,
            || Part::Measurement,
        )?;
        for (key, value) in &self.tags {
            out.push(',');
            write_name(out, key, ESC_KEY, REFUSED, || Part::TagKey)?;
            out.push('=');
            write_name(out, value, ESC_KEY, REFUSED, || Part::TagValue(key.clone()))?;
        }
        let mut floats = zmij::Buffer::new();
        for (i, (key, value)) in self.fields.iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            write_name(out, key, ESC_KEY, REFUSED, || Part::FieldKey)?;
            out.push('=');
            write_field_value(out, value, &mut floats);
        }
        out.push(' ');
        push_i64(out, self.timestamp_ns);
        out.push('\n');
        Ok(())
    }

    /// This point as one line, including the trailing `\n`.
    pub fn to_line(&self) -> Result<String, EncodeError> {
        let mut out = String::with_capacity(self.line_len_hint());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// A capacity that usually fits the encoded line without regrowing.
    pub(crate) fn line_len_hint(&self) -> usize {
        let names: usize = self.tags.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let fields: usize = self
            .fields
            .iter()
            .map(|(k, v)| {
                k.len()
                    + 2
                    + match v {
                        FieldValue::String(s) => s.len() + 2,
                        _ => 24,
                    }
            })
            .sum();
        // Escapes are rare; leave some room for them and the timestamp.
        self.measurement.len() + names + fields + 48
    }

    fn validate(&self) -> Result<(), EncodeError> {
        if self.measurement.is_empty() {
            return Err(EncodeError::EmptyMeasurement);
        }
        if self.measurement.starts_with('#') {
            return Err(EncodeError::MeasurementStartsWithHash(
                self.measurement.clone(),
            ));
        }
        for (key, value) in &self.tags {
            if key.is_empty() {
                return Err(EncodeError::EmptyTagKey {
                    value: value.clone(),
                });
            }
            if value.is_empty() {
                return Err(EncodeError::EmptyTagValue { key: key.clone() });
            }
        }
        if self.fields.is_empty() {
            return Err(EncodeError::NoFields {
                measurement: self.measurement.clone(),
            });
        }
        for (key, value) in &self.fields {
            if key.is_empty() {
                return Err(EncodeError::EmptyFieldKey);
            }
            if let FieldValue::Float(v) = value
                && !v.is_finite()
            {
                return Err(EncodeError::NonFiniteFloat {
                    key: key.clone(),
                    value: *v,
                });
            }
        }
        Ok(())
    }
}

/// Checks a non-empty name for characters it cannot carry.
fn check_name(text: &str, part: impl Fn() -> Part, refused: u8) -> Result<(), EncodeError> {
    let bad = text.bytes().find(|&b| class(b) & refused != 0);
    if let Some(b) = bad {
        return Err(EncodeError::UnsupportedChar {
            part: part(),
            text: text.to_owned(),
            ch: char::from(b),
        });
    }
    if text.ends_with('\\') {
        return Err(EncodeError::TrailingBackslash {
            part: part(),
            text: text.to_owned(),
        });
    }
    Ok(())
}

/// Writes a validated name, escaping bytes of class `escape` and the
/// backslashes before them.
fn write_name(
    out: &mut String,
    text: &str,
    escape: u8,
    refused: u8,
    part: impl Fn() -> Part,
) -> Result<(), EncodeError> {
    let bytes = text.as_bytes();
    // Common case: nothing to escape or refuse (and so no backslash at the end).
    if !bytes
        .iter()
        .any(|&b| class(b) & (escape | BACKSLASH | refused) != 0)
    {
        out.push_str(text);
        return Ok(());
    }
    check_name(text, part, refused)?;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = if b == b'\\' {
            // Escape a backslash only where it would otherwise be read as an
            // escape: before an escaped character or another backslash.
            bytes
                .get(i + 1)
                .is_some_and(|&next| class(next) & (escape | BACKSLASH) != 0)
        } else {
            class(b) & escape != 0
        };
        if escape {
            // `i` is an ASCII byte, so it is a char boundary.
            out.push_str(&text[start..i]);
            out.push('\\');
            start = i;
        }
    }
    out.push_str(&text[start..]);
    Ok(())
}

fn write_field_value(out: &mut String, value: &FieldValue, floats: &mut zmij::Buffer) {
    match value {
        // Validated finite; zmij writes the shortest round-trip form.
        FieldValue::Float(v) => out.push_str(floats.format_finite(*v)),
        FieldValue::Integer(v) => {
            push_i64(out, *v);
            out.push('i');
        }
        FieldValue::UInteger(v) => {
            push_u64(out, *v);
            out.push('u');
        }
        FieldValue::Boolean(v) => out.push_str(if *v { "true" } else { "false" }),
        FieldValue::String(s) => {
            out.push('"');
            let mut start = 0;
            for (i, b) in s.bytes().enumerate() {
                if b == b'"' || b == b'\\' {
                    out.push_str(&s[start..i]);
                    out.push('\\');
                    start = i;
                }
            }
            out.push_str(&s[start..]);
            out.push('"');
        }
    }
}

/// Decimal digits of `v`, without going through `fmt`.
fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written, so this never falls back.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

fn push_i64(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_u64(out, v.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(p: &Point) -> String {
        p.to_line().expect("encodable")
    }

    #[test]
    fn typical_point() {
        let p = Point::new("http_request", 1_700_000_000_000_000_000)
            .tag("scenario", "sync-fresh")
            .tag("domain", "example.com")
            .field("total_ms", 12.5)
            .field("status_code", 200i64)
            .field("body_bytes", 10u64)
            .field("ok", true)
            .field("note", "hi");
        assert_eq!(
            line(&p),
            "http_request,domain=example.com,scenario=sync-fresh \
             total_ms=12.5,status_code=200i,body_bytes=10u,ok=true,note=\"hi\" \
             1700000000000000000\n"
        );
    }

    #[test]
    fn escapes_measurement_tags_and_keys() {
        let p = Point::new("my measure,ment=x", -5)
            .tag("a key,=", "v a,l=ue")
            .field("f key,=", 1i64);
        assert_eq!(
            line(&p),
            "my\\ measure\\,ment=x,a\\ key\\,\\==v\\ a\\,l\\=ue f\\ key\\,\\==1i -5\n"
        );
    }

    #[test]
    fn backslashes_escaped_only_where_needed() {
        let p = Point::new(r"C:\temp\\x\,y", 0)
            .tag("k", r"a\b\=c")
            .field(r"f\ g", "q\"u\\o");
        assert_eq!(
            line(&p),
            "C:\\temp\\\\\\x\\\\\\,y,k=a\\b\\\\\\=c f\\\\\\ g=\"q\\\"u\\\\o\" 0\n"
        );
    }

    #[test]
    fn equals_sign_in_measurement_is_literal() {
        let p = Point::new("a=b", 1).field("v", 1i64);
        assert_eq!(line(&p), "a=b v=1i 1\n");
    }

    #[test]
    fn floats_round_trip_and_stay_floats() {
        let p = Point::new("m", 1)
            .field("one", 1.0)
            .field("neg", -0.25)
            .field("tiny", 1e-7)
            .field("huge", 2.5e20)
            .field("zero", 0.0)
            .field("max", f64::MAX);
        assert_eq!(
            line(&p),
            "m one=1.0,neg=-0.25,tiny=1e-7,huge=2.5e+20,zero=0.0,max=1.7976931348623157e+308 1\n"
        );
    }

    #[test]
    fn integer_extremes() {
        let p = Point::new("m", i64::MIN)
            .field("min", i64::MIN)
            .field("umax", u64::MAX);
        assert_eq!(
            line(&p),
            "m min=-9223372036854775808i,umax=18446744073709551615u -9223372036854775808\n"
        );
    }

    #[test]
    fn newline_allowed_in_string_field() {
        let p = Point::new("m", 1).field("s", "a\nb\r\tc");
        assert_eq!(line(&p), "m s=\"a\nb\r\tc\" 1\n");
    }

    #[test]
    fn empty_string_field() {
        assert_eq!(line(&Point::new("m", 1).field("s", "")), "m s=\"\" 1\n");
    }

    #[test]
    fn tags_sorted_and_replaced_fields_replaced_in_place() {
        let p = Point::new("m", 1)
            .tag("b", "1")
            .tag("a", "2")
            .tag("b", "3")
            .field("x", 1i64)
            .field("y", 2i64)
            .field("x", 3i64);
        assert_eq!(line(&p), "m,a=2,b=3 x=3i,y=2i 1\n");
    }

    #[test]
    fn encode_into_appends() {
        let mut out = String::from("prefix\n");
        Point::new("m", 1)
            .field("v", true)
            .encode_into(&mut out)
            .expect("encodable");
        assert_eq!(out, "prefix\nm v=true 1\n");
    }

    fn refused(p: Point) -> EncodeError {
        let mut out = String::from("keep");
        let err = p.encode_into(&mut out).expect_err("must be refused");
        assert_eq!(out, "keep", "nothing appended on error");
        err
    }

    #[test]
    fn refusals() {
        let ok = |m: &str| Point::new(m, 1).field("v", 1i64);
        assert_eq!(refused(ok("")), EncodeError::EmptyMeasurement);
        assert_eq!(
            refused(ok("#m")),
            EncodeError::MeasurementStartsWithHash("#m".into())
        );
        assert_eq!(
            refused(Point::new("m", 1)),
            EncodeError::NoFields {
                measurement: "m".into()
            }
        );
        assert_eq!(
            refused(ok("m").tag("", "v")),
            EncodeError::EmptyTagKey { value: "v".into() }
        );
        assert_eq!(
            refused(ok("m").tag("k", "")),
            EncodeError::EmptyTagValue { key: "k".into() }
        );
        assert_eq!(refused(ok("m").field("", 1i64)), EncodeError::EmptyFieldKey);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                refused(ok("m").field("f", bad)),
                EncodeError::NonFiniteFloat { ref key, .. } if key == "f"
            ));
        }
        for ch in ['\n', '\r', '\t'] {
            let text = format!("a{ch}b");
            let unsupported = |part| EncodeError::UnsupportedChar {
                part,
                text: text.clone(),
                ch,
            };
            assert_eq!(refused(ok(&text)), unsupported(Part::Measurement));
            assert_eq!(
                refused(ok("m").tag(text.as_str(), "v")),
                unsupported(Part::TagKey)
            );
            assert_eq!(
                refused(ok("m").tag("k", text.as_str())),
                unsupported(Part::TagValue("k".into()))
            );
            assert_eq!(
                refused(ok("m").field(text.as_str(), 1i64)),
                unsupported(Part::FieldKey)
            );
        }
        assert_eq!(
            refused(ok("a\0b")),
            EncodeError::UnsupportedChar {
                part: Part::Measurement,
                text: "a\0b".into(),
                ch: '\0'
            }
        );
        let trailing = |part| EncodeError::TrailingBackslash {
            part,
            text: "x\\".into(),
        };
        assert_eq!(refused(ok("x\\")), trailing(Part::Measurement));
        assert_eq!(refused(ok("m").tag("x\\", "v")), trailing(Part::TagKey));
        assert_eq!(
            refused(ok("m").tag("k", "x\\")),
            trailing(Part::TagValue("k".into()))
        );
        assert_eq!(
            refused(ok("m").field("x\\", 1i64)),
            trailing(Part::FieldKey)
        );
    }

    #[test]
    fn error_messages_name_the_bad_part() {
        let err = Point::new("m", 1)
            .tag("host", "a\nb")
            .field("v", 1i64)
            .to_line()
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "value of tag \"host\" \"a\\nb\" contains '\\n', which line protocol cannot carry there"
        );
    }
}
