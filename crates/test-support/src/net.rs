//! Ports and fault servers on 127.0.0.1.

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

/// A TCP port on 127.0.0.1 where nothing listens (bound, then released).
///
/// # Panics
/// When no port can be bound.
pub fn closed_port() -> u16 {
    free_tcp_port().expect("bind a free TCP port on 127.0.0.1")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_tcp_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> std::io::Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A server that accepts TCP connections and never answers; they stay open
/// while the process lives.
///
/// # Panics
/// When no port can be bound.
pub fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("bound address");
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    addr
}

/// True once something accepts TCP connections on `addr`, polling for up to `timeout`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_port_refuses_and_silent_server_accepts() {
        let closed = SocketAddr::from(([127, 0, 0, 1], closed_port()));
        assert!(TcpStream::connect(closed).is_err());
        let silent = silent_server();
        assert!(wait_for_port(silent, Duration::from_secs(5)));
        let mut stream = TcpStream::connect(silent).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut buf = [0u8; 1];
        let read = std::io::Read::read(&mut stream, &mut buf);
        assert!(read.is_err(), "a silent server sends nothing: {read:?}");
    }
}
