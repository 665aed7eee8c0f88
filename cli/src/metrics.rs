//! Prometheus metrics for `pollen relay` (`--metrics ADDR`): counters kept by
//! `prometheus-client`, served as text by `tiny_http` on its own thread.

use crate::CliError;
use pollen_runtime::LinkOutcome;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Label of a session result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    result: String,
}

/// Label of a reject reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    reason: String,
}

/// The relay's figures.
#[derive(Clone, Default)]
pub struct Metrics {
    sessions: Family<ResultLabel, Counter>,
    bytes_in: Counter,
    bytes_out: Counter,
    envelopes_in: Counter,
    envelopes_out: Counter,
    proofs_in: Counter,
    rejects: Family<ReasonLabel, Counter>,
    /// Envelopes held now.
    pub stored: Gauge,
    /// Bytes of envelopes held now.
    pub stored_bytes: Gauge,
}

impl Metrics {
    /// Counts one ended session.
    pub fn session(&self, o: &LinkOutcome) {
        let result = if o.error.is_none() {
            "finished"
        } else {
            "failed"
        };
        self.sessions
            .get_or_create(&ResultLabel {
                result: result.into(),
            })
            .inc();
        let s = &o.stats;
        self.bytes_in.inc_by(s.bytes_received);
        self.bytes_out.inc_by(s.bytes_sent);
        self.envelopes_in.inc_by(s.envelopes_received);
        self.envelopes_out.inc_by(s.envelopes_sent);
        self.proofs_in.inc_by(s.proofs_received);
        for (reason, n) in &s.rejected {
            self.rejects
                .get_or_create(&ReasonLabel {
                    reason: (*reason).into(),
                })
                .inc_by(*n);
        }
    }

    fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("pollen_relay");
        r.register("sessions", "Sync sessions ended", self.sessions.clone());
        r.register(
            "received_bytes",
            "Bytes read from clients",
            self.bytes_in.clone(),
        );
        r.register(
            "sent_bytes",
            "Bytes written to clients",
            self.bytes_out.clone(),
        );
        r.register(
            "envelopes_received",
            "Envelopes received",
            self.envelopes_in.clone(),
        );
        r.register(
            "envelopes_sent",
            "Envelopes sent",
            self.envelopes_out.clone(),
        );
        r.register(
            "proofs_received",
            "Delivery proofs received",
            self.proofs_in.clone(),
        );
        r.register(
            "rejects",
            "Envelopes refused, by reason",
            self.rejects.clone(),
        );
        r.register("stored_envelopes", "Envelopes held", self.stored.clone());
        r.register(
            "stored_envelope_bytes",
            "Bytes of envelopes held",
            self.stored_bytes.clone(),
        );
        r
    }

    /// Serves `GET /metrics` on `addr` from a background thread.
    pub fn serve(&self, addr: &str) -> Result<String, CliError> {
        let server = tiny_http::Server::http(addr)
            .map_err(|e| CliError::Other(format!("cannot serve metrics on {addr}: {e}")))?;
        let bound = server
            .server_addr()
            .to_ip()
            .map(|a| a.to_string())
            .unwrap_or_else(|| addr.to_owned());
        let registry = Arc::new(self.registry());
        std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for request in server.incoming_requests() {
                    let response = if request.url() == "/metrics" {
                        let mut body = String::new();
                        let _ = prometheus_client::encoding::text::encode(&mut body, &registry);
                        let header = tiny_http::Header::from_bytes(
                            &b"Content-Type"[..],
                            &b"application/openmetrics-text; version=1.0.0; charset=utf-8"[..],
                        );
                        let mut r = tiny_http::Response::from_string(body);
                        if let Ok(h) = header {
                            r = r.with_header(h);
                        }
                        r
                    } else {
                        tiny_http::Response::from_string("see /metrics\n").with_status_code(404)
                    };
                    let _ = request.respond(response);
                }
            })
            .map_err(|e| CliError::Other(format!("cannot start the metrics thread: {e}")))?;
        Ok(bound)
    }
}
