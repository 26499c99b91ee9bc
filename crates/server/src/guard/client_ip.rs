//! The client's address: the TCP peer's, unless the peer is one of `TRUSTED_PROXIES`; then
//! `X-Forwarded-For` is read from the right (the entry the nearest proxy added) and the
//! first address that is not itself a trusted proxy is the client. A client cannot choose
//! its own address by sending the header: an untrusted peer's header is ignored, and a
//! trusted proxy appends the peer it saw after whatever the client wrote.

use crate::app::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// `None` only when the request did not come over a socket (tests through the router).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer?;
    if !is_trusted(&client) {
        return Some(client);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // Garbage the proxy passed along: the last good address is the best we know.
            Err(_) => break,
        }
    }
    Some(client)
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(resolve(
            peer,
            &parts.headers,
            &state.config.guard.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let got = resolve(Some(ip("203.0.113.9")), &xff(&["1.2.3.4"]), &trusted);
        assert_eq!(got, Some(ip("203.0.113.9")));
        assert_eq!(
            resolve(Some(ip("10.0.0.2")), &xff(&["1.2.3.4"]), &[]),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = [
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ];
        // The client forged "6.6.6.6"; the edge proxy (10.0.0.5) appended the real peer.
        let h = xff(&["6.6.6.6, 198.51.100.7", "10.0.0.5"]);
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), &h, &trusted),
            Some(ip("198.51.100.7"))
        );
        // Only proxies in the chain: the leftmost is as far as we can see.
        let h = xff(&["10.0.0.9"]);
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), &h, &trusted),
            Some(ip("10.0.0.9"))
        );
        // No header: the proxy itself.
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), &HeaderMap::new(), &trusted),
            Some(ip("127.0.0.1"))
        );
        // Garbage stops the walk at the last good address.
        let h = xff(&["198.51.100.7, not-an-ip"]);
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), &h, &trusted),
            Some(ip("127.0.0.1"))
        );
        let h = xff(&["::ffff:1.2.3.4, 2001:db8::1"]);
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), &h, &trusted),
            Some(ip("2001:db8::1"))
        );
    }

    #[test]
    fn no_socket_no_address() {
        assert_eq!(resolve(None, &xff(&["1.2.3.4"]), &[]), None);
    }
}
