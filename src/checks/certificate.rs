//! `certificate` checks: how long the TLS certificate an endpoint presents stays valid, as
//! Monit's `certificate valid > N days`.
//!
//! It connects to `address`, says `server_name` in the handshake (SNI) and reads the first
//! certificate of the chain the server sends: the server's own. Its dates are the verdict:
//! expired or not yet valid is CRITICAL, fewer than `crit_days` left CRITICAL, fewer than
//! `warn_days` WARNING. Trust is not judged (a self-signed or private-CA certificate expires
//! like any other; an `http` check on an `https://` URL judges trust), but the handshake is a
//! real one: the server must prove it holds the certificate's key.

use super::http::port_of;
use super::{CheckResult, Keys, Kind, Perf};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::json;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};
use x509_cert::der::Decode;

const DAY: f64 = 86_400.0;

/// `kind = "certificate"`.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// `host:port`.
    pub address: String,
    /// The name sent in the handshake (SNI): the host of `address` unless given.
    pub server_name: String,
    pub warn_days: u32,
    pub crit_days: u32,
}

impl Kind for Certificate {
    const NAME: &'static str = "certificate";
    const KEYS: &'static [&'static str] = &["address", "server_name", "warn_days", "crit_days"];

    fn parse(keys: &mut Keys) -> Option<Self> {
        let address: Option<String> = keys.require("address");
        let warn_days = keys.get("warn_days").unwrap_or(30);
        let crit_days = keys.get("crit_days").unwrap_or(7);
        if crit_days > warn_days {
            let message = format!(
                "`crit_days` ({crit_days}) is more than `warn_days` ({warn_days}): the warning would never show"
            );
            keys.problem("crit_days", message);
        }
        let address = address?;
        let Some((host, _)) = split_host_port(&address) else {
            keys.problem(
                "address",
                format!("expected host:port, like \"example.org:443\", got {address:?}"),
            );
            return None;
        };
        let server_name: String = keys.get("server_name").unwrap_or_else(|| host.to_string());
        if ServerName::try_from(server_name.as_str()).is_err() {
            keys.problem(
                "server_name",
                format!("{server_name:?} is neither a DNS name nor an IP address"),
            );
            return None;
        }
        Some(Certificate {
            address,
            server_name,
            warn_days,
            crit_days,
        })
    }

    // Name resolution has no timeout of its own: the probe runs on a thread of its own.
    fn probe(&self, deadline: Duration) -> CheckResult {
        match self.peer_certificate(deadline) {
            Ok(der) => self.judge(&der, crate::clock::now()),
            Err(problem) => CheckResult::critical(format!("{}: {problem}", self.address)),
        }
    }

    fn details(&self) -> serde_json::Value {
        json!({
            "address": self.address,
            "server_name": self.server_name,
            "warn_days": self.warn_days,
            "crit_days": self.crit_days,
            "port": port_of(&self.address),
        })
    }
}

/// `host:port`, `[v6]:port`.
fn split_host_port(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then_some(())?;
    Some((host, port.parse().ok()?))
}

impl Certificate {
    /// The first certificate the server presents, after a full handshake within `deadline`.
    fn peer_certificate(&self, deadline: Duration) -> Result<Vec<u8>, String> {
        let started = Instant::now();
        let left = || deadline.saturating_sub(started.elapsed()).max(Duration::from_millis(1));
        let addrs: Vec<_> = self
            .address
            .to_socket_addrs()
            .map_err(|err| format!("cannot resolve: {err}"))?
            .collect();
        let mut last_error = String::from("resolves to no address");
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, left()) {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(err) => last_error = err.to_string(),
            }
        }
        let mut tcp = tcp.ok_or(last_error)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|err| err.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(DatesOnly(provider)))
            .with_no_client_auth();
        let name = ServerName::try_from(self.server_name.clone()).map_err(|err| err.to_string())?;
        let mut tls = rustls::ClientConnection::new(Arc::new(config), name)
            .map_err(|err| err.to_string())?;
        while tls.is_handshaking() {
            let wait = left();
            if started.elapsed() >= deadline {
                return Err(format!("TLS handshake timed out after {deadline:?}"));
            }
            let _ = tcp.set_read_timeout(Some(wait));
            let _ = tcp.set_write_timeout(Some(wait));
            tls.complete_io(&mut tcp)
                .map_err(|err| format!("TLS handshake failed: {err}"))?;
        }
        let first = tls
            .peer_certificates()
            .and_then(|chain| chain.first())
            .ok_or("the server sent no certificate")?;
        Ok(first.as_ref().to_vec())
    }

    fn judge(&self, der: &[u8], now: f64) -> CheckResult {
        let cert = match x509_cert::Certificate::from_der(der) {
            Ok(cert) => cert,
            Err(err) => return CheckResult::critical(format!("{}: unreadable certificate: {err}", self.address)),
        };
        let tbs = cert.tbs_certificate();
        let subject = tbs.subject().to_string();
        let not_before = tbs.validity().not_before.to_unix_duration().as_secs_f64();
        let not_after = tbs.validity().not_after.to_unix_duration().as_secs_f64();
        let days_left = (not_after - now) / DAY;
        let perf = vec![Perf::new("days_left", days_left.floor(), "")];
        let until = crate::clock::rfc3339(not_after);
        let who = format!("certificate of {} ({subject})", self.server_name);
        if now < not_before {
            return CheckResult::critical(format!(
                "{who} is not valid before {}",
                crate::clock::rfc3339(not_before)
            ))
            .with_perf(perf);
        }
        if days_left < 0.0 {
            return CheckResult::critical(format!(
                "{who} expired {} day(s) ago, on {until}",
                (-days_left).ceil()
            ))
            .with_perf(perf);
        }
        let days = days_left.floor();
        let summary = format!("{who} expires in {days} day(s), on {until}");
        if days_left < f64::from(self.crit_days) {
            CheckResult::critical(format!("{summary} (critical under {} days)", self.crit_days))
        } else if days_left < f64::from(self.warn_days) {
            CheckResult::warning(format!("{summary} (warning under {} days)", self.warn_days))
        } else {
            CheckResult::ok(summary)
        }
        .with_perf(perf)
    }
}

/// Takes any certificate, for its dates: trust is not this check's question. The handshake's
/// signatures are still verified, so the server holds the certificate's key.
#[derive(Debug)]
struct DatesOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for DatesOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(split_host_port("example.org:443"), Some(("example.org", 443)));
        assert_eq!(split_host_port("[::1]:8443"), Some(("::1", 8443)));
        assert_eq!(split_host_port("example.org"), None);
        assert_eq!(split_host_port(":443"), None);
        assert_eq!(split_host_port("host:99999"), None);
    }
}
