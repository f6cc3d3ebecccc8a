//! The tower layer around reqwest's connector: it runs only when a new
//! connection is opened, and scopes the hooks to that connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use tower::{Layer, Service};

use crate::recorder::{CURRENT, OpenConnection, Progress, Recorder};

#[derive(Clone, Debug)]
pub(crate) struct TimingLayer {
    recorder: Arc<Recorder>,
}

impl TimingLayer {
    pub(crate) fn new(recorder: Arc<Recorder>) -> Self {
        Self { recorder }
    }
}

impl<S> Layer<S> for TimingLayer {
    type Service = TimingConnector<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimingConnector {
            inner,
            recorder: self.recorder.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct TimingConnector<S> {
    inner: S,
    recorder: Arc<Recorder>,
}

impl<S, Req> Service<Req> for TimingConnector<S>
where
    S: Service<Req>,
    S::Response: Connection,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let progress = Arc::new(Progress::new(Instant::now()));
        let inner = CURRENT.sync_scope(progress.clone(), || self.inner.call(req));
        let recorder = self.recorder.clone();
        Box::pin(async move {
            let conn = CURRENT.scope(progress.clone(), inner).await?;
            let ready = Instant::now();
            let mut extensions = http::Extensions::new();
            conn.connected().get_extras(&mut extensions);
            if let Some(info) = extensions.get::<HttpInfo>() {
                let timing = progress.finish(ready, info.local_addr(), info.remote_addr());
                recorder.opened(OpenConnection::new(ready, timing));
            }
            Ok(conn)
        })
    }
}
