//! The connection to the central PostgreSQL: opened within `connect_timeout`, every statement
//! bounded by the server's `statement_timeout` and the socket's `TCP_USER_TIMEOUT` (a cut link
//! that drops every packet fails the call instead of hanging it), TLS through rustls when the
//! URL asks for it, and the central schema brought up to date.

use super::FleetError;
use crate::config::{url_parameter, FleetConfig, FLEET_PASSWORD_VARIABLE};
use postgres::config::SslMode;
use postgres::{Client, NoTls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Ordered migrations of the central schema; `orchestrator_fleet_schema.version` is the
/// number applied. Kept like the local ones: files, in order, never edited once released.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_init.sql")];

/// The advisory lock hosts take while migrating, so that ten hosts upgraded at once migrate
/// once.
const MIGRATION_LOCK: i64 = 0x6f72_6368_666c_7431;

pub struct Central {
    pub(super) client: Client,
}

impl Central {
    /// Connects and migrates. Fails within about `connect_timeout` when the server cannot be
    /// reached, and within `statement_timeout` for each statement after.
    pub fn connect(config: &FleetConfig) -> Result<Central, FleetError> {
        let pg = pg_config(config)?;
        let client = match tls_of(config)? {
            None => pg.connect(NoTls),
            Some(tls) => pg.connect(tls),
        }
        .map_err(|e| FleetError::Unreachable(describe(&e)))?;
        let mut central = Central { client };
        central.migrate()?;
        Ok(central)
    }

    fn migrate(&mut self) -> Result<(), FleetError> {
        let known = MIGRATIONS.len() as i32;
        let current = self.schema_version()?;
        if current == Some(known) {
            return Ok(());
        }
        let mut tx = self.client.transaction().map_err(sql)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(sql)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS orchestrator_fleet_schema (version INT NOT NULL);
             INSERT INTO orchestrator_fleet_schema SELECT 0
              WHERE NOT EXISTS (SELECT 1 FROM orchestrator_fleet_schema);",
        )
        .map_err(sql)?;
        let current: i32 = tx
            .query_one("SELECT version FROM orchestrator_fleet_schema", &[])
            .map_err(sql)?
            .get(0);
        if current > known {
            return Err(FleetError::TooNew {
                found: current,
                known,
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.batch_execute(migration).map_err(sql)?;
            tx.execute(
                "UPDATE orchestrator_fleet_schema SET version = $1",
                &[&(index as i32 + 1)],
            )
            .map_err(sql)?;
            log::info!("fleet database: applied migration {}", index + 1);
        }
        tx.commit().map_err(sql)
    }

    /// The schema version, without creating anything (None: not an orchestrator fleet yet).
    fn schema_version(&mut self) -> Result<Option<i32>, FleetError> {
        let exists: bool = self
            .client
            .query_one(
                "SELECT to_regclass('orchestrator_fleet_schema') IS NOT NULL",
                &[],
            )
            .map_err(sql)?
            .get(0);
        if !exists {
            return Ok(None);
        }
        let row = self
            .client
            .query_opt("SELECT version FROM orchestrator_fleet_schema", &[])
            .map_err(sql)?;
        Ok(row.map(|row| row.get(0)))
    }
}

/// The URL as the `postgres` crate reads it, less the TLS parameters orchestrator reads itself
/// (`sslmode`, `sslrootcert`), with the password and the time bounds.
fn pg_config(config: &FleetConfig) -> Result<postgres::Config, FleetError> {
    let url = without_tls_parameters(config.database.trim());
    let mut pg = postgres::Config::from_str(&url)
        .map_err(|e| FleetError::Config(format!("[fleet] database: {e}")))?;
    if let Some(password) = password(config)? {
        pg.password(password);
    }
    let statement = config.statement_timeout.std();
    pg.connect_timeout(config.connect_timeout.std())
        .tcp_user_timeout(statement.saturating_add(Duration::from_secs(1)))
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .application_name(&format!("orchestrator {}", env!("CARGO_PKG_VERSION")))
        .options(&format!(
            "-c statement_timeout={} -c lock_timeout={}",
            statement.as_millis(),
            statement.as_millis()
        ))
        .ssl_mode(if tls_wanted(config) {
            SslMode::Require
        } else {
            SslMode::Disable
        });
    Ok(pg)
}

fn without_tls_parameters(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "sslmode" && k != "sslrootcert")
        .map(|(k, v)| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair(&k, &v)
                .finish()
        })
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// From `password_file`, else ORCHESTRATOR_FLEET_PASSWORD, else none (trust or peer auth).
fn password(config: &FleetConfig) -> Result<Option<String>, FleetError> {
    if let Some(path) = &config.password_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            FleetError::Config(format!(
                "[fleet] password_file {}: cannot read it: {e}",
                path.display()
            ))
        })?;
        return Ok(Some(text.trim_end_matches(['\n', '\r']).to_string()));
    }
    Ok(std::env::var(FLEET_PASSWORD_VARIABLE).ok())
}

fn tls_wanted(config: &FleetConfig) -> bool {
    url_parameter(&config.database, "sslmode").is_some_and(|mode| mode != "disable")
}

/// TLS through rustls when the URL asks for it. Every mode that asks for TLS verifies the
/// server's certificate and name (libpq's `verify-full`): against `sslrootcert=FILE` when
/// given, else the web's public roots. libpq's `require` would accept any certificate, which
/// a host that runs plans on the fleet's word must not.
fn tls_of(
    config: &FleetConfig,
) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, FleetError> {
    if !tls_wanted(config) {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore::empty();
    match url_parameter(&config.database, "sslrootcert") {
        Some(path) => {
            let pem = std::fs::read(&path).map_err(|e| {
                FleetError::Config(format!("[fleet] database: sslrootcert {path}: {e}"))
            })?;
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| {
                    FleetError::Config(format!("[fleet] database: sslrootcert {path}: {e}"))
                })?;
                roots.add(cert).map_err(|e| {
                    FleetError::Config(format!("[fleet] database: sslrootcert {path}: {e}"))
                })?;
                added += 1;
            }
            if added == 0 {
                return Err(FleetError::Config(format!(
                    "[fleet] database: sslrootcert {path} holds no PEM certificate"
                )));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FleetError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls)))
}

/// A database error with what the server said, when it said something.
pub(super) fn sql(err: postgres::Error) -> FleetError {
    if err.is_closed() || err.as_db_error().is_none() {
        return FleetError::Unreachable(describe(&err));
    }
    FleetError::Sql(describe(&err))
}

fn describe(err: &postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_parameters_are_read_by_orchestrator_not_passed_on() {
        assert_eq!(
            without_tls_parameters("postgresql://o@db:5432/fleet?sslmode=verify-full&sslrootcert=%2Fca.pem&connect_timeout=2"),
            "postgresql://o@db:5432/fleet?connect_timeout=2"
        );
        assert_eq!(
            without_tls_parameters("postgresql://o@db/fleet?sslmode=disable"),
            "postgresql://o@db/fleet"
        );
    }
}
