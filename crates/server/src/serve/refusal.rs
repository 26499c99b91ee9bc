//! The answers hyper makes by itself — 400 for a malformed request line or header, 414 for
//! a request target over 64 KiB, 431 for headers over its buffer — have empty bodies and
//! none of the security headers. [`Enveloped`] sits between hyper and the socket and
//! rewrites such an answer, as it is written, into the API's error envelope with a fresh
//! request id and the headers every answer carries. The connection closes after it, as it
//! would have anyway.
//!
//! Hyper's own answers are recognised by their status line (400, 414 or 431) and by the
//! lack of `x-content-type-options`, which every answer of the router carries.

use crate::error::{ErrorBody, ErrorObject};
use futures_util::FutureExt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Enveloped<T> {
    inner: T,
    /// A rewritten answer not yet fully written, and how much of it was.
    pending: Vec<u8>,
    sent: usize,
}

impl<T> Enveloped<T> {
    pub fn new(inner: T) -> Self {
        Enveloped {
            inner,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> Enveloped<T> {
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// When `buf` is one of hyper's own answers: takes it whole, writes the envelope instead.
    fn replace(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<usize>>> {
        let answer = rewrite(buf)?;
        self.pending = answer;
        self.sent = 0;
        // What is left is written by the flush hyper does next.
        Some(match self.drain(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(buf.len())),
        })
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Enveloped<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Enveloped<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        if let Some(done) = this.replace(cx, buf) {
            return done;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(done) = this.replace(cx, first)
        {
            return done;
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The envelope answer for one of hyper's own, or `None` for anything else.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let line = buf.get(..13)?;
    let (code, message) = match line.get(9..13)? {
        b"400 " => ("bad_request", "the request line or a header is malformed"),
        b"414 " => ("uri_too_long", "the request target is too long"),
        b"431 " => (
            "headers_too_large",
            "the request's headers are too large or too many",
        ),
        _ => return None,
    };
    if !line.starts_with(b"HTTP/1.") {
        return None;
    }
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    if head.contains("\r\nx-content-type-options:") {
        return None;
    }
    let status = std::str::from_utf8(&line[9..12]).ok()?;
    let status = axum::http::StatusCode::from_bytes(status.as_bytes()).ok()?;
    tracing::info!(
        status = status.as_u16(),
        code,
        "request refused before routing"
    );
    Some(answer(status, code, message))
}

fn answer(status: axum::http::StatusCode, code: &'static str, message: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&ErrorBody {
        error: ErrorObject {
            code,
            message: message.to_owned(),
            details: None,
        },
    })
    .unwrap_or_default();
    // The same security headers as every routed answer.
    let secured =
        crate::guard::headers::secure(axum::response::Response::new(axum::body::Body::empty()))
            .now_or_never()
            .expect("adding headers does not wait");
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
        uuid::Uuid::new_v4(),
    )
    .into_bytes();
    for (name, value) in secured.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyper_s_own_refusals_are_rewritten() {
        let hyper =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(rewrite(hyper).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(out.contains("\r\nx-content-type-options: nosniff\r\n"));
        assert!(out.ends_with(r#"{"error":{"code":"headers_too_large","message":"the request's headers are too large or too many"}}"#));
        let routed = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nx-content-type-options: nosniff\r\ncontent-length: 2\r\n\r\n{}";
        assert!(rewrite(routed).is_none());
        assert!(rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 414 ").is_none(), "not a whole head");
    }
}
