//! `POST /alerts`, the stack's default receiver of Grafana notifications: the real binary,
//! real HTTP requests, its stderr read line by line.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_demo-backend");

/// Grafana's webhook payload, as in Grafana's docs ("Configure the webhook notifier"), with
/// the labels and annotations of this project's "Calls failing" rule.
const GRAFANA_PAYLOAD: &str = r#"{
  "receiver": "backend-call-timing",
  "status": "firing",
  "orgId": 1,
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "Calls failing", "grafana_folder": "Backend call timing alerts", "severity": "critical", "target": "flaky"},
      "annotations": {"summary": "Calls to flaky are failing", "description": "flaky: 40 failed calls in 40 rounds of the last 5 min"},
      "startsAt": "2026-11-29T12:51:03.157076+01:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://127.0.0.1:3000/alerting/grafana/bct-calls-failing/view",
      "fingerprint": "c6eadffa33fcdf37",
      "silenceURL": "http://127.0.0.1:3000/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DCalls+failing",
      "dashboardURL": "http://127.0.0.1:3000/d/probes-overview",
      "panelURL": "http://127.0.0.1:3000/d/probes-overview?viewPanel=3",
      "values": {"C": 40, "D": 40, "E": 1}
    },
    {
      "status": "resolved",
      "labels": {"alertname": "Probe silent", "severity": "critical", "scenario": "sync-fresh"},
      "annotations": {"summary": "Probe sync-fresh is silent"},
      "startsAt": "2026-11-29T12:40:03Z",
      "endsAt": "2026-11-29T12:50:03Z",
      "generatorURL": "", "fingerprint": "bc97ff14869b13e3", "silenceURL": "",
      "dashboardURL": "", "panelURL": "", "values": {"B": 12, "C": 0}
    }
  ],
  "groupLabels": {"alertname": "Calls failing"},
  "commonLabels": {"severity": "critical"},
  "commonAnnotations": {},
  "externalURL": "http://127.0.0.1:3000/",
  "version": "1",
  "groupKey": "{}:{alertname=\"Calls failing\"}",
  "truncatedAlerts": 0,
  "title": "[FIRING:1] Calls failing",
  "state": "alerting",
  "message": "**Firing**\n\nValue: C=40\nLabels:\n - alertname = Calls failing\n"
}"#;

struct Server {
    http: SocketAddr,
    lines: Receiver<String>,
    child: Child,
}

impl Server {
    fn start(cert_dir: &std::path::Path) -> Server {
        let mut child = Command::new(BIN)
            .args(["--http", "127.0.0.1:0", "--https", "off", "--cert-dir"])
            .arg(cert_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The ready line is the only line on stdout; the logs are on stderr.
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = ready.trim_end();
        let http = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http="))
            .unwrap_or_else(|| panic!("no http= in {line:?}"))
            .parse()
            .unwrap();
        Server { http, lines, child }
    }

    /// Sends one raw HTTP/1.1 request; returns the status code.
    fn send(&self, method: &str, body: &[u8]) -> u16 {
        let mut tcp = TcpStream::connect(self.http).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "{method} /alerts HTTP/1.1\r\nHost: demo-backend\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        tcp.write_all(head.as_bytes()).unwrap();
        tcp.write_all(body).unwrap();
        let mut resp = String::new();
        tcp.read_to_string(&mut resp).unwrap();
        resp.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The next stderr line, within a few seconds.
    fn next_line(&self) -> String {
        self.lines.recv_timeout(Duration::from_secs(5)).unwrap()
    }

    fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "demo-backend exited"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn grafana_notification_is_logged_as_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    assert_eq!(server.send("POST", GRAFANA_PAYLOAD.as_bytes()), 200);
    let line = server.next_line();
    assert!(
        line.starts_with(
            "demo-backend: alert notification firing (2 alerts, receiver backend-call-timing): "
        ),
        "{line}"
    );
    for want in [
        "[firing] Calls failing target=flaky severity=critical: Calls to flaky are failing",
        "[resolved] Probe silent scenario=sync-fresh severity=critical",
    ] {
        assert!(line.contains(want), "{want:?} not in {line}");
    }
    // Nothing else was logged for it (the message's newlines did not split the line).
    assert!(
        server
            .lines
            .recv_timeout(Duration::from_millis(300))
            .is_err()
    );
    server.assert_alive();
}

#[test]
fn malformed_notifications_are_refused_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let cases: [(&[u8], &str); 4] = [
        (b"{not json", "body is not JSON"),
        (b"[]", "not a JSON object"),
        (br#"{"status":"firing"}"#, "no \"alerts\" array"),
        (
            br#"{"alerts":[{"status":"firing","labels":{"target":"x"}}]}"#,
            "alerts[0] has no \"labels\" object with \"alertname\"",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(server.send("POST", body), 400, "{want}");
        let line = server.next_line();
        assert!(
            line.starts_with("demo-backend: alert notification refused") && line.contains(want),
            "{want:?}: {line}"
        );
        server.assert_alive();
    }
    // Too large a body: refused, the server lives on.
    let big = vec![b' '; demo_backend::alerts::MAX_ALERT_BODY_BYTES + 1];
    assert_eq!(server.send("POST", &big), 400);
    assert!(server.next_line().contains("alert notification refused"));
    assert_eq!(server.send("GET", b""), 405);
    server.assert_alive();
    // And it still takes a good one.
    assert_eq!(server.send("POST", GRAFANA_PAYLOAD.as_bytes()), 200);
    assert!(
        server
            .next_line()
            .contains("[firing] Calls failing target=flaky")
    );
}
