//! The example service: `GET /combined?mode=sync|async` calls the demo
//! backend's `fast` and `slow` services, one after the other or both at
//! once, through one instrumented `ClientWithMiddleware`, and answers with
//! both results. Every outbound call is timed by `reqwest_timing`'s
//! middleware and handed to a [`Reporter`] (in the stack:
//! `probe_metrics::SinkReporter` to Telegraf).

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use reqwest_middleware::ClientWithMiddleware;
use reqwest_timing::{
    CallTarget, ConnectionPolicy, Instrumentation, Reporter, TimingMiddleware, TlsOptions,
};

/// The two backend services `/combined` calls, by their target names.
pub const SERVICES: [&str; 2] = ["fast", "slow"];

/// How `/combined` makes its two calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One after the other.
    Sync,
    /// Both at once.
    Async,
}

impl Mode {
    /// From the `mode` query value.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "sync" => Ok(Self::Sync),
            "async" => Ok(Self::Async),
            other => Err(format!("invalid mode {other:?}: expected sync or async")),
        }
    }

    /// `sync` or `async`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Async => "async",
        }
    }
}

/// Errors setting the service up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The instrumentation (TLS roots) could not be built.
    #[error(transparent)]
    Timing(#[from] reqwest_timing::Error),
    /// reqwest refused the client settings.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The backend URL cannot carry paths.
    #[error("invalid backend URL {0:?}: expected http:// or https:// with a host")]
    Backend(String),
}

/// The service's state: the backend and the instrumented client.
#[derive(Debug, Clone)]
pub struct App {
    backend: url::Url,
    client: ClientWithMiddleware,
}

impl App {
    /// One long-lived client (keep-alive, TLS resumption) whose calls go to
    /// `reporter`.
    pub fn new(
        backend: url::Url,
        tls: &TlsOptions,
        reporter: Arc<dyn Reporter>,
    ) -> Result<Self, SetupError> {
        if backend.cannot_be_a_base() || !matches!(backend.scheme(), "http" | "https") {
            return Err(SetupError::Backend(backend.to_string()));
        }
        let timing = Instrumentation::new(ConnectionPolicy::reused(), tls)?;
        let inner = timing
            .apply(reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)))
            .build()?;
        let client = reqwest_middleware::ClientBuilder::new(inner)
            .with(TimingMiddleware::with_shared_reporter(timing, reporter))
            .build();
        Ok(Self { backend, client })
    }

    fn url(&self, service: &str) -> url::Url {
        let mut url = self.backend.clone();
        url.set_path(&format!("/api/{service}"));
        url
    }

    /// Calls one service; its status and body, or why it failed.
    async fn call(&self, service: &'static str) -> serde_json::Value {
        let sent = self
            .client
            .get(self.url(service))
            .with_extension(CallTarget::new(service))
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return serde_json::json!({ "error": e.to_string() }),
        };
        let status = response.status().as_u16();
        match response.text().await {
            Ok(body) => {
                let body = serde_json::from_str::<serde_json::Value>(&body)
                    .unwrap_or(serde_json::Value::String(body));
                serde_json::json!({ "status": status, "body": body })
            }
            Err(e) => serde_json::json!({ "status": status, "error": e.to_string() }),
        }
    }

    /// Both services' results, called in `mode`.
    pub async fn combined(&self, mode: Mode) -> serde_json::Value {
        let [a, b] = SERVICES;
        let (fast, slow) = match mode {
            Mode::Sync => {
                let fast = self.call(a).await;
                (fast, self.call(b).await)
            }
            Mode::Async => tokio::join!(self.call(a), self.call(b)),
        };
        serde_json::json!({ "mode": mode.as_str(), a: fast, b: slow })
    }
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{value}\n"),
    )
        .into_response()
}

async fn combined(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let mut mode = Mode::Sync;
    for pair in query.as_deref().unwrap_or("").split('&') {
        if let Some(value) = pair.strip_prefix("mode=") {
            match Mode::parse(value) {
                Ok(m) => mode = m,
                Err(e) => return json(StatusCode::BAD_REQUEST, &serde_json::json!({ "error": e })),
            }
        }
    }
    let body = app.combined(mode).await;
    let failed = SERVICES.iter().any(|s| body[s].get("error").is_some());
    let status = if failed {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::OK
    };
    json(status, &body)
}

/// `GET /combined?mode=sync|async` and `GET /health`.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/combined", get(combined))
        .route("/health", get(|| async { "ok\n" }))
        .with_state(Arc::new(app))
}
