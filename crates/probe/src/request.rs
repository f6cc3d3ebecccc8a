//! Sending a target's request (method, headers, body, time limit) through an
//! instrumented client, keeping the start of the body when it must be matched.

use std::collections::HashMap;
use std::time::Duration;

use reqwest_timing::{Instrumentation, TimedError, TimedResponse};

use crate::config::Config;
use crate::expect::BODY_MATCH_LIMIT_BYTES;
use crate::http_mode::HttpMode;
use crate::target::Target;

/// A response, with the start of its body when the target matches it.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) response: TimedResponse,
    pub(crate) body: Option<Vec<u8>>,
}

/// The outcome of one request.
pub(crate) type Reply = Result<Answer, TimedError>;

/// One instrumented async client per HTTP version in use (a client speaks
/// one policy; each has its own hooks).
pub(crate) struct AsyncClients {
    clients: HashMap<HttpMode, (Instrumentation, reqwest::Client)>,
}

impl AsyncClients {
    /// Clients for every HTTP version the targets use.
    pub(crate) fn new(config: &Config, targets: &[Target]) -> anyhow::Result<Self> {
        let mut clients = Self {
            clients: HashMap::new(),
        };
        clients.cover(config, targets)?;
        Ok(clients)
    }

    /// Adds clients for versions that `targets` use and no client speaks yet.
    pub(crate) fn cover(&mut self, config: &Config, targets: &[Target]) -> anyhow::Result<()> {
        for target in targets {
            let mode = config.http_of(target);
            if let std::collections::hash_map::Entry::Vacant(slot) = self.clients.entry(mode) {
                let timing =
                    Instrumentation::new(config.policy, &config.tls)?.with_http(mode.policy());
                // No connect timeout: each request's own timeout (a target's
                // may exceed --timeout) bounds its setup too.
                let builder = reqwest::Client::builder()
                    .timeout(config.timeout)
                    .user_agent(crate::USER_AGENT);
                let client = timing.apply(builder).build()?;
                slot.insert((timing, client));
            }
        }
        Ok(())
    }

    /// Sends `target`'s request; `cover` must have seen the target.
    pub(crate) async fn send(&self, config: &Config, target: &Target) -> Reply {
        let (timing, client) = &self.clients[&config.http_of(target)];
        let spec = &target.request;
        let mut builder = client
            .request(spec.method.clone(), target.url.clone())
            .headers(spec.headers.clone())
            // Same per-request bound as the sync probes: setup, headers and body.
            .timeout(config.timeout_of(target));
        if let Some(body) = &spec.body {
            builder = builder.body(body.clone());
        }
        if spec.expect.needs_body() {
            let (response, body) = timing
                .send_with_body_prefix(builder, BODY_MATCH_LIMIT_BYTES)
                .await?;
            Ok(Answer {
                response,
                body: Some(body),
            })
        } else {
            let response = timing.send(builder).await?;
            Ok(Answer {
                response,
                body: None,
            })
        }
    }
}

/// The blocking twin of [`AsyncClients`], used on the sync probes' request thread.
pub(crate) struct BlockingClients {
    policy: reqwest_timing::ConnectionPolicy,
    tls: reqwest_timing::TlsOptions,
    timeout: Duration,
    clients: HashMap<HttpMode, (Instrumentation, reqwest::blocking::Client)>,
}

impl BlockingClients {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            policy: config.policy,
            tls: config.tls.clone(),
            timeout: config.timeout,
            clients: HashMap::new(),
        }
    }

    fn client(
        &mut self,
        mode: HttpMode,
    ) -> anyhow::Result<&(Instrumentation, reqwest::blocking::Client)> {
        if !self.clients.contains_key(&mode) {
            let timing = Instrumentation::new(self.policy, &self.tls)?.with_http(mode.policy());
            // No connect timeout: the per-request timeout bounds setup too.
            let builder = reqwest::blocking::Client::builder()
                .timeout(self.timeout)
                .user_agent(crate::USER_AGENT);
            let client = timing.apply_blocking(builder).build()?;
            self.clients.insert(mode, (timing, client));
        }
        Ok(&self.clients[&mode])
    }

    /// Builds the clients for `modes` that do not exist yet.
    pub(crate) fn cover(&mut self, modes: &[HttpMode]) -> anyhow::Result<()> {
        for &mode in modes {
            self.client(mode)?;
        }
        Ok(())
    }

    /// Sends `target`'s request with HTTP version `mode` and time limit `timeout`.
    pub(crate) fn send(
        &mut self,
        target: &Target,
        mode: HttpMode,
        timeout: Duration,
    ) -> anyhow::Result<Reply> {
        let (timing, client) = self.client(mode)?;
        let spec = &target.request;
        // A per-request timeout bounds body and all (the client's bounds each read).
        let mut builder = client
            .request(spec.method.clone(), target.url.clone())
            .headers(spec.headers.clone())
            .timeout(timeout);
        if let Some(body) = &spec.body {
            builder = builder.body(body.clone());
        }
        Ok(if spec.expect.needs_body() {
            timing
                .send_blocking_with_body_prefix(builder, BODY_MATCH_LIMIT_BYTES)
                .map(|(response, body)| Answer {
                    response,
                    body: Some(body),
                })
        } else {
            timing.send_blocking(builder).map(|response| Answer {
                response,
                body: None,
            })
        })
    }
}
