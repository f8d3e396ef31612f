//! STARTTLS (RFC 3207) with rustls and the ring provider. The certificate and
//! key come from `smtpd_tls_cert_file` / `smtpd_tls_key_file` (PEM).

use super::conn::Conn;
use super::limits::TlsLevel;
use super::reply::Reply;
use super::session::{Next, Session};
use crate::stages::TlsInfo;
use anyhow::Context as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Build the acceptor for a listener, or `None` when TLS is off
/// (`smtpd_tls_security_level = none` or empty). A level that asks for TLS
/// without a usable certificate is an error: never silently run plaintext.
pub fn acceptor(level: TlsLevel, cert: &str, key: &str) -> anyhow::Result<Option<TlsAcceptor>> {
    if level == TlsLevel::None {
        return Ok(None);
    }
    if cert.is_empty() || key.is_empty() {
        anyhow::bail!(
            "smtpd_tls_security_level requires smtpd_tls_cert_file and smtpd_tls_key_file"
        );
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(Path::new(cert))
        .with_context(|| format!("smtpd_tls_cert_file {cert}"))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("smtpd_tls_cert_file {cert}"))?;
    if certs.is_empty() {
        anyhow::bail!("smtpd_tls_cert_file {cert}: no certificate found");
    }
    let key = PrivateKeyDer::from_pem_file(Path::new(key))
        .with_context(|| format!("smtpd_tls_key_file {key}"))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("smtpd TLS certificate and key do not match")?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

impl Session {
    pub(super) async fn cmd_starttls(&mut self, args: &str) -> Next {
        let Some(acceptor) = self.shared.tls.clone() else {
            self.reply(Reply::new(502, "5.5.1", "Error: command not implemented"))
                .await;
            return Next::Continue;
        };
        if self.tls_active {
            self.reply(Reply::new(554, "5.5.1", "Error: TLS already active"))
                .await;
            return Next::Continue;
        }
        if !args.is_empty() {
            self.reply(Reply::new(501, "5.5.4", "Syntax: STARTTLS"))
                .await;
            return Next::Continue;
        }
        if self.txn.sender.is_some() {
            self.reply(Reply::new(
                503,
                "5.5.1",
                "Error: MAIL transaction in progress",
            ))
            .await;
            return Next::Continue;
        }
        self.conn
            .queue(&Reply::new(220, "2.0.0", "Ready to start TLS").to_wire());
        let t = self.limits().timeout;
        if !matches!(tokio::time::timeout(t, self.conn.flush()).await, Ok(Ok(()))) {
            return Next::Close;
        }
        // Anything pipelined after STARTTLS arrived in plaintext and must not
        // be taken as if it came through TLS (CVE-2011-0411 class).
        self.conn.discard_input();
        let placeholder = Conn::new(Box::new(tokio::io::duplex(1).0));
        let io = std::mem::replace(&mut self.conn, placeholder).into_io();
        let hs = tokio::time::timeout(self.limits().timeout, acceptor.accept(io)).await;
        let tls = match hs {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::info!("SSL_accept error from {}: {e}", self.client());
                return Next::Close;
            }
            Err(_) => {
                tracing::info!("SSL_accept timeout from {}", self.client());
                return Next::Close;
            }
        };
        let (_, c) = tls.get_ref();
        let info = TlsInfo {
            protocol: c
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default()
                .replace('_', "."),
            cipher: c
                .negotiated_cipher_suite()
                // IANA/OpenSSL TLS 1.3 names (TLS_AES_256_GCM_SHA384), as
                // Postfix logs them; rustls prefixes them with TLS13_.
                .map(|s| format!("{:?}", s.suite()).replace("TLS13_", "TLS_"))
                .unwrap_or_default(),
            peer_subject: None,
            peer_verified: false,
        };
        tracing::info!(
            "{} TLS connection established from {}: {} with cipher {}",
            "Anonymous",
            self.client(),
            info.protocol,
            info.cipher
        );
        self.conn = Conn::new(Box::new(tls));
        self.tls_active = true;
        self.facts.tls = Some(info);
        // RFC 3207: forget everything learned before the handshake.
        self.facts.helo_name = None;
        self.esmtp = false;
        self.reset_txn();
        Next::Continue
    }
}
