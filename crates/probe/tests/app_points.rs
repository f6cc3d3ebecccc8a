//! A service's own calls, through the `reqwest-timing` middleware and
//! `probe_metrics::SinkReporter`, become `http_request` / `http_error` points
//! that follow the schema (`source=app`, `client`, a bounded `target`) and
//! reach a real UDP listener on 127.0.0.1 through the non-blocking sink.

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use probe::schema::{self, Measurement};
use probe_metrics::{
    FieldValue, Point, Sink, SinkConfig, SinkOptions, SinkReporter, TelegrafAddr, call_points,
};
use reqwest_middleware::ClientBuilder;
use reqwest_timing::{
    CallRecord, CallTarget, ConnectionPolicy, Instrumentation, Reporter, TimingMiddleware,
    TlsOptions,
};

/// Every key is declared with its kind, every `always` key is present, and
/// the point encodes.
fn conforms(point: &Point, m: &Measurement) {
    assert_eq!(point.measurement(), m.name);
    for (key, value) in point.fields() {
        let declared = m.fields.iter().find(|k| k.name == key);
        let declared = declared.unwrap_or_else(|| panic!("{key} not in the schema of {}", m.name));
        let kind = match value {
            FieldValue::Float(_) => "float",
            FieldValue::Integer(_) => "integer",
            FieldValue::Boolean(_) => "boolean",
            FieldValue::String(_) => "string",
            other => panic!("{key}: unexpected {other:?}"),
        };
        assert_eq!(kind, declared.kind, "{}.{key}", m.name);
    }
    for (tag, _) in point.tags() {
        assert!(
            m.tags.iter().any(|k| k.name == tag),
            "tag {tag} not in {}",
            m.name
        );
    }
    for k in m
        .tags
        .iter()
        .chain(m.fields)
        .filter(|k| k.presence == "always")
    {
        let present =
            point.tags().any(|(t, _)| t == k.name) || point.fields().any(|(f, _)| f == k.name);
        assert!(present, "{}.{} is always present", m.name, k.name);
    }
    point.to_line().expect("encodable");
}

/// Forwards to the sink reporter and keeps the records.
struct Both {
    sink: SinkReporter,
    records: Arc<Mutex<Vec<CallRecord>>>,
}

impl Reporter for Both {
    fn on_call(&self, record: &CallRecord) {
        self.sink.on_call(record);
        self.records.lock().expect("records").push(record.clone());
    }
}

fn received(socket: &UdpSocket, want_lines: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut buf = [0u8; 65_536];
    let deadline = Instant::now() + Duration::from_secs(10);
    while lines.len() < want_lines && Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            lines.extend(text.lines().map(str::to_owned));
        }
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_calls_become_points_of_the_schema_at_the_sink() {
    let backend = test_support::backend::backend(test_support::cert_dir!("app-points"), |_| {});
    let listener = UdpSocket::bind("127.0.0.1:0").expect("udp");
    listener
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let addr = listener.local_addr().expect("addr");
    let options = SinkOptions {
        flush_interval: Duration::from_millis(20),
        ..SinkOptions::default()
    };
    let sink = Sink::start(
        SinkConfig::Telegraf(TelegrafAddr::Udp(addr.to_string())),
        options,
    )
    .expect("sink");
    let sink = Arc::new(sink);
    let records = Arc::new(Mutex::new(Vec::new()));
    let reporter = Both {
        sink: SinkReporter::new(sink.clone(), "test-app"),
        records: records.clone(),
    };
    let ca = probe::ca::read_ca_file(&backend.ca_pem_path).expect("CA");
    let tls = TlsOptions::only_roots(ca);
    let timing = Instrumentation::new(ConnectionPolicy::reused(), &tls).expect("timing");
    let inner = timing
        .apply(reqwest::Client::builder())
        .build()
        .expect("client");
    let client = ClientBuilder::new(inner)
        .with(TimingMiddleware::new(timing, reporter))
        .build();

    let https = backend.https_url().expect("https");
    let ok = client
        .get(format!("{https}/api/fast?token=secret"))
        .with_extension(CallTarget::new("fast"))
        .send()
        .await
        .expect("response");
    ok.bytes().await.expect("body");
    let failing = client
        .get(format!("{https}/status/503"))
        .send()
        .await
        .expect("response");
    drop(failing); // unread: still reported, with body_complete=false
    let refused = format!("http://127.0.0.1:{}/", test_support::net::closed_port());
    client.get(&refused).send().await.expect_err("refused");

    // Points of the schema, built from the records.
    let records = records.lock().expect("records").clone();
    assert_eq!(records.len(), 3);
    let mut built = Vec::new();
    for r in &records {
        let (request, error) = call_points("test-app", r);
        if let Some(p) = request {
            conforms(&p, &schema::HTTP_REQUEST);
            built.push(p.to_line().expect("line"));
        }
        if let Some(p) = error {
            conforms(&p, &schema::HTTP_ERROR);
            built.push(p.to_line().expect("line"));
        }
    }
    assert_eq!(built.len(), 4, "{built:#?}");

    // The same lines arrive at the listener.
    let lines = received(&listener, 4);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let has = |line: &str, parts: &[&str]| parts.iter().all(|p| line.contains(p));
    let first = &lines[0];
    assert!(first.starts_with("http_request,"), "{first}");
    assert!(
        has(
            first,
            &[
                ",source=app",
                ",client=test-app",
                ",target=fast,",
                ",domain=localhost",
                ",status=200",
                ",reused=false",
                ",dns=lookup",
                " total_ms=",
                "tls_ms=",
                "body_complete=true"
            ]
        ),
        "{first}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("secret")),
        "the query never reaches a point"
    );
    assert!(
        has(
            &lines[1],
            &["http_request,", ",status=503", "body_complete=false"]
        ),
        "{}",
        lines[1]
    );
    assert!(
        has(
            &lines[2],
            &[
                "http_error,",
                ",source=app",
                ",target=localhost",
                "error_class=http_5xx",
                " count=1i"
            ]
        ),
        "{}",
        lines[2]
    );
    assert!(
        has(
            &lines[3],
            &["http_error,", ",target=127.0.0.1", "error_class=connect"]
        ),
        "{}",
        lines[3]
    );
    for (line, expected) in lines.iter().zip(&built) {
        // Same series and timestamp (`cert_expires_in_days` moves with the clock).
        let series = |l: &str| l.split(' ').next().unwrap_or_default().to_owned();
        let stamp = |l: &str| {
            l.trim_end()
                .rsplit(' ')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(series(line), series(expected));
        assert_eq!(stamp(line), stamp(expected));
    }
    assert_eq!(sink.stats().dropped, 0);
}
