//! The schema's documented tag values (docs/metrics.md) are the code's own lists:
//! every scenario of `Scenario::ALL` and error class of `ErrorClass::ALL`, no other.

use probe::Scenario;
use probe::schema::{self, Measurement};
use reqwest_timing::ErrorClass;

fn about(m: &Measurement, tag: &str) -> &'static str {
    m.tags
        .iter()
        .find(|k| k.name == tag)
        .unwrap_or_else(|| panic!("{} has no tag {tag}", m.name))
        .about
}

/// The `code` spans of a description, e.g. `` `dns`, `tls` `` -> [dns, tls].
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[test]
fn scenario_tag_lists_every_scenario() {
    let want: Vec<&str> = Scenario::ALL.map(Scenario::as_str).to_vec();
    for m in schema::ALL {
        assert_eq!(code_spans(about(&m, "scenario")), want, "{}", m.name);
    }
}

#[test]
fn error_class_tag_lists_every_class() {
    let want: Vec<&str> = ErrorClass::ALL.map(ErrorClass::as_str).to_vec();
    assert_eq!(code_spans(about(&schema::HTTP_ERROR, "error_class")), want);
}

#[test]
fn counted_fields_are_always_present() {
    for ((name, field), m) in schema::COUNTED.iter().zip(schema::ALL) {
        assert_eq!(*name, m.name);
        let key = m.fields.iter().find(|k| k.name == *field).expect("field");
        assert_eq!(key.presence, "always", "{name}.{field}");
    }
}
