//! What the overhead benchmarks share: a local hyper server and the paired
//! measurement (the two clients alternate in short batches so both see the same
//! machine noise; the figure is the median over batch pairs of the difference of
//! the batch medians).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

pub const BATCHES: usize = 200;
pub const BATCH: usize = 100;

/// A hyper server speaking HTTP/1.1 and HTTP/2 (by its preface).
pub fn serve() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|_req| async {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                            b"ok",
                        ))))
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("server address")
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternates batches of `plain` and `timed` requests; prints `what` for `label`,
/// the medians (named `plain_name` and `timed_name`) and the paired overhead.
pub async fn paired<P, PF, T, TF>(
    what: &str,
    label: &str,
    [plain_name, timed_name]: [&str; 2],
    plain: P,
    timed: T,
) where
    P: Fn() -> PF,
    PF: Future<Output = Duration>,
    T: Fn() -> TF,
    TF: Future<Output = Duration>,
{
    for _ in 0..2000 {
        plain().await;
        timed().await;
    }
    let (mut plain_all, mut timed_all, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..BATCHES {
        let mut p = Vec::with_capacity(BATCH);
        let mut t = Vec::with_capacity(BATCH);
        for _ in 0..BATCH {
            p.push(plain().await.as_secs_f64() * 1e6);
        }
        for _ in 0..BATCH {
            t.push(timed().await.as_secs_f64() * 1e6);
        }
        diffs.push(median(&mut t.clone()) - median(&mut p.clone()));
        plain_all.extend(p);
        timed_all.extend(t);
    }
    let n = plain_all.len();
    println!("{what}, async reused, {label} on 127.0.0.1 ({n} calls each, batches of {BATCH})");
    println!(
        "  {plain_name:<21} median {:>8.1} µs",
        median(&mut plain_all)
    );
    println!(
        "  {timed_name:<21} median {:>8.1} µs",
        median(&mut timed_all)
    );
    println!(
        "  overhead (paired)    median {:>8.1} µs   goal <= 5 µs",
        median(&mut diffs)
    );
}
