//! HS256 bearer tokens. Only HS256 is accepted (`alg: none` and every other algorithm
//! fail), `exp`, `sub` and `sid` (the session, see [`super::sessions`]) are required, and
//! the leeway for clock skew is 5 seconds.

use crate::config::Secret;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// The session this token belongs to: ending it refuses the token.
    pub sid: Uuid,
    pub iat: u64,
    pub exp: u64,
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    /// Tokens already verified, with their user, session and expiry: a client sends the same token
    /// on every request, and decoding it (base64, JSON, HMAC) is most of an auth check.
    verified: moka::sync::Cache<String, (Uuid, Uuid, u64)>,
}

/// How long a verified token is remembered (it is still refused once expired).
const VERIFIED_TTL: Duration = Duration::from_secs(60);

impl Tokens {
    pub fn new(secret: &Secret, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Tokens {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            ttl,
            verified: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(VERIFIED_TTL)
                .build(),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for session `sid` of `user`, and the Unix time it expires.
    pub fn issue(&self, user: Uuid, sid: Uuid) -> anyhow::Result<(String, u64)> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user,
            sid,
            iat: now,
            exp: now + self.ttl.as_secs(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims.exp))
    }

    /// The user and session of a valid token (whether the session is still live is the
    /// caller's check); the error says what was wrong, for the log only.
    pub fn verify(&self, token: &str) -> Result<(Uuid, Uuid), jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some((user, sid, exp)) = self.verified.get(token)
            && exp + self.validation.leeway > now
        {
            return Ok((user, sid));
        }
        let claims =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?.claims;
        self.verified
            .insert(token.to_owned(), (claims.sub, claims.sid, claims.exp));
        Ok((claims.sub, claims.sid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_token_still_expires() {
        let tokens = Tokens::new(&Secret::new("s".repeat(32)), Duration::from_secs(3600));
        let user = Uuid::now_v7();
        let sid = Uuid::now_v7();
        let (good, _) = tokens.issue(user, sid).unwrap();
        assert_eq!(tokens.verify(&good).unwrap(), (user, sid));
        assert_eq!(tokens.verify(&good).unwrap(), (user, sid), "from the cache");
        // Plant an expired entry: the cache must not outlive the token.
        tokens.verified.insert("stale".into(), (user, sid, 1));
        assert!(tokens.verify("stale").is_err());
    }
}
