//! The routes: a small hand-written router over hyper requests.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use rand::Rng;
use tokio::sync::watch;

use crate::alerts::MAX_ALERT_BODY_BYTES;
use crate::config::Service;

/// Error type of response bodies (a body error aborts the connection).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Response body type of every route.
pub type Body = BoxBody<Bytes, BoxError>;

/// Largest `/bytes/{n}`.
pub const MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Longest `/delay/{ms}` (10 minutes).
pub const MAX_DELAY_MS: u64 = 600_000;
/// Most `/drip` chunks.
pub const MAX_DRIP_CHUNKS: u64 = 10_000;
/// Size of each `/drip` chunk.
pub const DRIP_CHUNK_BYTES: usize = 64;
/// Content-Length announced by `/truncated`.
pub const TRUNCATED_ANNOUNCED_BYTES: u64 = 1000;
/// Bytes actually sent by `/truncated` before the connection is closed.
pub const TRUNCATED_SENT_BYTES: usize = 100;

static FILL: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// What the handlers need from the server.
pub struct Routes {
    pub rtt: Duration,
    pub services: Vec<Service>,
    pub fail_rate: f64,
    /// Becomes `true` at shutdown; releases `/hang`.
    pub stop: watch::Receiver<bool>,
}

impl Routes {
    /// Answers one request: waits `rtt`, then dispatches on the path.
    pub async fn handle<B>(self: Arc<Self>, req: Request<B>) -> Result<Response<Body>, BoxError>
    where
        B: hyper::body::Body,
        B::Error: Into<BoxError>,
    {
        if !self.rtt.is_zero() {
            tokio::time::sleep(self.rtt).await;
        }
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let resp = match segments.as_slice() {
            ["health"] => text(StatusCode::OK, "ok"),
            ["api", name] => self.api(name).await,
            ["delay", ms] => delay(ms).await,
            ["status", code] => status(code),
            ["bytes", n] => bytes(n),
            ["drip"] => drip(&query),
            ["flaky"] => self.flaky(),
            ["truncated"] => truncated(),
            ["redirect-loop"] => redirect_loop(),
            ["hang"] => return self.hang().await,
            ["alerts"] => alerts(req).await,
            _ => text(StatusCode::NOT_FOUND, &format!("no route for {path}\n")),
        };
        Ok(resp)
    }

    async fn api(&self, name: &str) -> Response<Body> {
        let Some(svc) = self.services.iter().rev().find(|s| s.name == name) else {
            return text(
                StatusCode::NOT_FOUND,
                &format!("unknown service {name:?}\n"),
            );
        };
        let latency = sample_latency(svc);
        tokio::time::sleep(latency).await;
        let body = format!(
            concat!(
                r#"{{"service":"{name}","latency_ms":{lat:.3},"configured_latency_ms":{cfg},"#,
                r#""jitter_ms":{jit},"server":"demo-backend","items":["#,
                r#"{{"id":1,"name":"alpha","price_cents":1299,"in_stock":true}},"#,
                r#"{{"id":2,"name":"bravo","price_cents":2499,"in_stock":false}},"#,
                r#"{{"id":3,"name":"charlie","price_cents":399,"in_stock":true}}],"#,
                r#""note":"emulated backend service; latency is drawn uniformly from configured ± jitter"}}"#,
                "\n"
            ),
            name = svc.name,
            lat = latency.as_secs_f64() * 1000.0,
            cfg = svc.latency.as_millis(),
            jit = svc.jitter.as_millis(),
        );
        let mut resp = full(StatusCode::OK, Bytes::from(body));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        resp
    }

    fn flaky(&self) -> Response<Body> {
        if rand::rng().random_bool(self.fail_rate) {
            text(StatusCode::SERVICE_UNAVAILABLE, "flaky: failed\n")
        } else {
            text(StatusCode::OK, "flaky: ok\n")
        }
    }

    /// Never answers; at shutdown the request fails, which closes the connection.
    async fn hang(&self) -> Result<Response<Body>, BoxError> {
        let mut stop = self.stop.clone();
        let _ = stop.wait_for(|s| *s).await;
        Err("shutting down".into())
    }
}

/// `latency ± jitter`, uniformly drawn, never below zero.
fn sample_latency(svc: &Service) -> Duration {
    if svc.jitter.is_zero() {
        return svc.latency;
    }
    let jit = svc.jitter.as_secs_f64();
    let offset = rand::rng().random_range(-jit..=jit);
    Duration::try_from_secs_f64((svc.latency.as_secs_f64() + offset).max(0.0))
        .unwrap_or(svc.latency)
}

async fn delay(ms: &str) -> Response<Body> {
    match ms.parse::<u64>() {
        Ok(ms) if ms <= MAX_DELAY_MS => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            text(StatusCode::OK, &format!("delayed {ms} ms\n"))
        }
        _ => bad_request(&format!(
            "invalid delay {ms:?}: expected milliseconds 0..={MAX_DELAY_MS}"
        )),
    }
}

fn status(code: &str) -> Response<Body> {
    match code.parse::<u16>().ok().filter(|c| (100..=599).contains(c)) {
        Some(c) => {
            let st = StatusCode::from_u16(c).unwrap_or(StatusCode::BAD_REQUEST);
            text(st, &format!("status {c}\n"))
        }
        None => bad_request(&format!("invalid status {code:?}: expected 100..=599")),
    }
}

fn bytes(n: &str) -> Response<Body> {
    let Some(n) = n.parse::<u64>().ok().filter(|n| *n <= MAX_BYTES) else {
        return bad_request(&format!(
            "invalid size {n:?}: expected bytes 0..={MAX_BYTES}"
        ));
    };
    let chunk = FILL.len() as u64;
    let chunks = stream::iter((0..n.div_ceil(chunk)).map(move |i| {
        let len = (n - i * chunk).min(chunk) as usize;
        Ok::<_, BoxError>(Frame::data(Bytes::from_static(&FILL[..len])))
    }));
    let mut resp = Response::new(StreamBody::new(chunks).boxed());
    set_length(&mut resp, n);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    resp
}

/// `/drip?chunks=N&interval_ms=M`: first chunk right away, then one every M ms.
fn drip(query: &str) -> Response<Body> {
    let mut chunks = 5u64;
    let mut interval_ms = 100u64;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let parsed = v.parse::<u64>();
        match (k, parsed) {
            ("chunks", Ok(n)) if (1..=MAX_DRIP_CHUNKS).contains(&n) => chunks = n,
            ("interval_ms", Ok(ms)) if ms <= MAX_DELAY_MS => interval_ms = ms,
            _ => {
                return bad_request(&format!(
                    "invalid drip parameter {pair:?}: expected chunks=1..={MAX_DRIP_CHUNKS} and interval_ms=0..={MAX_DELAY_MS}"
                ));
            }
        }
    }
    let interval = Duration::from_millis(interval_ms);
    let body = stream::unfold(0u64, move |i| async move {
        if i >= chunks {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        let mut line = format!("chunk {:>6} of {:>6}", i + 1, chunks).into_bytes();
        line.resize(DRIP_CHUNK_BYTES - 1, b'.');
        line.push(b'\n');
        Some((Ok::<_, BoxError>(Frame::data(Bytes::from(line))), i + 1))
    });
    let mut resp = Response::new(StreamBody::new(body).boxed());
    set_length(&mut resp, chunks * DRIP_CHUNK_BYTES as u64);
    resp
}

/// Announces more bytes than it sends, then fails the body (closing the
/// connection). The pause lets hyper flush the headers and the partial body first.
fn truncated() -> Response<Body> {
    let frames = stream::unfold(0u8, |step| async move {
        match step {
            0 => Some((
                Ok(Frame::data(Bytes::from_static(
                    &FILL[..TRUNCATED_SENT_BYTES],
                ))),
                1,
            )),
            1 => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some((
                    Err::<Frame<Bytes>, BoxError>("truncated on purpose".into()),
                    2,
                ))
            }
            _ => None,
        }
    });
    let mut resp = Response::new(StreamBody::new(frames).boxed());
    set_length(&mut resp, TRUNCATED_ANNOUNCED_BYTES);
    resp
}

fn redirect_loop() -> Response<Body> {
    let mut resp = text(StatusCode::FOUND, "redirecting to myself\n");
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/redirect-loop"));
    resp
}

/// `POST /alerts`: logs a Grafana webhook notification as one line; anything else 400.
async fn alerts<B>(req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body,
    B::Error: Into<BoxError>,
{
    if req.method() != http::Method::POST {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST a Grafana webhook notification\n",
        );
    }
    let body = match Limited::new(req.into_body(), MAX_ALERT_BODY_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            tracing::warn!("alert notification refused: body unreadable: {e}");
            return bad_request(&format!(
                "unreadable body (at most {MAX_ALERT_BODY_BYTES} bytes): {e}"
            ));
        }
    };
    match crate::alerts::describe(&body) {
        Ok(line) => {
            tracing::info!("{line}");
            text(StatusCode::OK, "logged\n")
        }
        Err(e) => {
            tracing::warn!("alert notification refused ({} bytes): {e}", body.len());
            bad_request(&format!("not a Grafana webhook notification: {e}"))
        }
    }
}

fn bad_request(msg: &str) -> Response<Body> {
    text(StatusCode::BAD_REQUEST, &format!("{msg}\n"))
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut resp = full(status, Bytes::from(body.to_owned()));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn full(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Full::new(body).map_err(|never| match never {}).boxed());
    *resp.status_mut() = status;
    resp
}

fn set_length(resp: &mut Response<Body>, len: u64) {
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn latency_stays_within_jitter() {
        let svc: Service = "x=20ms~5ms".parse().unwrap();
        for _ in 0..200 {
            let d = sample_latency(&svc);
            assert!(
                d >= Duration::from_millis(15) && d <= Duration::from_millis(25),
                "{d:?}"
            );
        }
    }

    #[test]
    fn latency_never_negative() {
        let svc: Service = "x=1ms~50ms".parse().unwrap();
        for _ in 0..200 {
            assert!(sample_latency(&svc) <= Duration::from_millis(51));
        }
    }
}
