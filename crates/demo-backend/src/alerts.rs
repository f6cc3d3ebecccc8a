//! `POST /alerts`: the stack's default receiver of Grafana's webhook notifications.
//!
//! Each notification is logged as one line naming every alert, its state and its target
//! (or scenario); a body that is not a Grafana webhook payload is answered 400 and logged.

use serde_json::Value;

/// Largest notification body read.
pub const MAX_ALERT_BODY_BYTES: usize = 1024 * 1024;

/// Why a body is not a Grafana webhook notification.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("body is not a JSON object")]
    NotObject,
    #[error("no \"alerts\" array")]
    NoAlerts,
    #[error("alerts[{0}] has no \"status\" string")]
    NoStatus(usize),
    #[error("alerts[{0}] has no \"labels\" object with \"alertname\"")]
    NoAlertName(usize),
}

/// One line describing a webhook notification, e.g.
/// `alert notification firing (2 alerts, receiver backend-call-timing): [firing] Calls failing target=flaky severity=critical: 5 failed calls ...; ...`.
pub fn describe(body: &[u8]) -> Result<String, PayloadError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| PayloadError::NotJson(e.to_string()))?;
    let obj = v.as_object().ok_or(PayloadError::NotObject)?;
    let alerts = obj
        .get("alerts")
        .and_then(Value::as_array)
        .ok_or(PayloadError::NoAlerts)?;
    let mut parts = Vec::with_capacity(alerts.len());
    for (i, alert) in alerts.iter().enumerate() {
        let status = alert
            .get("status")
            .and_then(Value::as_str)
            .ok_or(PayloadError::NoStatus(i))?;
        let labels = alert.get("labels").and_then(Value::as_object);
        let name = labels
            .and_then(|l| l.get("alertname"))
            .and_then(Value::as_str)
            .ok_or(PayloadError::NoAlertName(i))?;
        let mut part = format!("[{status}] {name}");
        for key in ["target", "scenario", "output", "severity"] {
            if let Some(value) = labels.and_then(|l| l.get(key)).and_then(Value::as_str) {
                part.push_str(&format!(" {key}={value}"));
            }
        }
        let summary = alert
            .get("annotations")
            .and_then(|a| a.get("summary"))
            .and_then(Value::as_str);
        if let Some(summary) = summary {
            part.push_str(": ");
            part.push_str(summary);
        }
        parts.push(part);
    }
    let status = obj.get("status").and_then(Value::as_str).unwrap_or("?");
    let receiver = obj.get("receiver").and_then(Value::as_str).unwrap_or("?");
    // One line, whatever the annotations hold.
    let line = format!(
        "alert notification {status} ({} alert{}, receiver {receiver}): {}",
        alerts.len(),
        if alerts.len() == 1 { "" } else { "s" },
        parts.join("; ")
    );
    Ok(line.replace(['\n', '\r'], " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_notification() {
        assert!(matches!(describe(b"{"), Err(PayloadError::NotJson(_))));
        assert_eq!(describe(b"[1]"), Err(PayloadError::NotObject));
        assert_eq!(
            describe(b"{\"status\":\"firing\"}"),
            Err(PayloadError::NoAlerts)
        );
        assert_eq!(
            describe(br#"{"alerts":[{"labels":{"alertname":"x"}}]}"#),
            Err(PayloadError::NoStatus(0))
        );
        assert_eq!(
            describe(br#"{"alerts":[{"status":"firing","labels":{}}]}"#),
            Err(PayloadError::NoAlertName(0))
        );
    }

    #[test]
    fn multi_line_annotations_stay_on_one_line() {
        let line = describe(
            br#"{"alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":{"summary":"x\ny"}}]}"#,
        )
        .unwrap();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.contains("[firing] A: x y"), "{line}");
    }
}
