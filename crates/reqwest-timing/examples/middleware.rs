//! Times the calls of a `reqwest_middleware::ClientWithMiddleware` and prints
//! each call's phases when its body is done.
//!
//! ```sh
//! cargo run -p reqwest-timing --features middleware --example middleware            # a local server
//! cargo run -p reqwest-timing --features middleware --example middleware -- https://example.com/
//! ```

use reqwest_middleware::ClientBuilder;
use reqwest_timing::{
    CallRecord, CallTarget, ConnectionPolicy, Instrumentation, TimingMiddleware, TlsOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn print(record: &CallRecord) {
    let Some(t) = &record.timings else {
        println!(
            "{} {}: failed ({:?}) after {:?}",
            record.method, record.target, record.failure, record.elapsed
        );
        return;
    };
    let setup = t.connection.as_ref().map_or_else(
        || "reused connection".to_owned(),
        |c| {
            format!(
                "dns {:?} connect {:?} tls {:?}",
                c.dns.duration(),
                c.connect,
                c.tls
            )
        },
    );
    println!(
        "{} {} -> {:?}: {setup}, ttfb {:?}, body {:?} ({} bytes, complete: {}), total {:?}",
        record.method,
        record.target,
        record.status,
        t.ttfb,
        t.body,
        record.body_bytes,
        record.body_complete,
        t.total
    );
}

/// A tiny HTTP/1.1 server on 127.0.0.1 answering every request with "hello".
async fn local_server() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhello\n";
                    if stream.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(format!("http://{addr}/"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => local_server().await?,
    };
    // Two lines in the client setup: the instrumented client, the middleware.
    let timing = Instrumentation::new(ConnectionPolicy::reused(), &TlsOptions::system_roots())?;
    let client = ClientBuilder::new(timing.apply(reqwest::Client::builder()).build()?)
        .with(TimingMiddleware::new(timing, print))
        .build();

    for _ in 0..3 {
        let response = client
            .get(&url)
            .with_extension(CallTarget::new("example"))
            .send()
            .await?;
        let body = response.text().await?; // the record is printed here, at the body's end
        println!("  body: {:?}", body.trim_end());
    }
    // A response dropped unread is reported too, with `body_complete: false`.
    drop(client.get(&url).send().await?);
    Ok(())
}
