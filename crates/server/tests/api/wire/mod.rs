//! The server over real sockets, driven by raw TCP clients that misbehave: bodies that
//! lie about their length or stall, request lines and headers hyper itself refuses,
//! request ids of any size and bytes. Backend-independent: SQLite.

mod body;
mod refusals;
mod shed;

use crate::helpers::TestApp;
use flowats_server::config::Config;
use flowats_server::serve::{ServeOptions, serve};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A test app, served over TCP on a free port until the returned sender is dropped or fired.
pub async fn listen(
    configure: impl FnOnce(&mut Config),
) -> (TestApp, SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let app = TestApp::with_config(flowats_db::testing::sqlite().await, configure).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = ServeOptions {
        header_read_timeout: app.state.config.guard.header_read_timeout,
        deadline: Duration::from_secs(2),
    };
    tokio::spawn(serve(listener, app.router.clone(), options, async {
        let _ = stopped.await;
    }));
    (app, addr, stop)
}

/// One answer as it came over the wire.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    /// The head, lower-cased.
    pub head: String,
    pub body: Value,
}

impl Raw {
    /// The value of header `name` (lower-case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            (n.trim() == name).then(|| v.trim())
        })
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body["error"]["code"], code, "{self:?}");
        assert!(self.body["error"]["message"].is_string(), "{self:?}");
        assert!(
            self.header("content-type")
                .is_some_and(|v| v.starts_with("application/json")),
            "{self:?}"
        );
    }
}

/// Sends `bytes` and reads the first answer, waiting at most `within`.
pub async fn exchange(addr: SocketAddr, bytes: &[u8], within: Duration) -> Raw {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    read_answer(&mut s, within).await
}

/// Reads one answer (head and a `Content-Length` body) from `s`, waiting at most `within`.
pub async fn read_answer(s: &mut TcpStream, within: Duration) -> Raw {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if buf.len() >= end + 4 + len {
                    let status = head[9..12].parse().unwrap();
                    let body =
                        serde_json::from_slice(&buf[end + 4..end + 4 + len]).unwrap_or(Value::Null);
                    return Raw { status, head, body };
                }
            }
            let n = s.read(&mut chunk).await.unwrap_or(0);
            assert!(
                n > 0,
                "closed before a whole answer: {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(within, read)
        .await
        .unwrap_or_else(|_| panic!("no answer within {within:?}"))
}
