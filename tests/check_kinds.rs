//! The check kinds Monit users rely on, against real things: TLS servers (openssl s_server with
//! certificates made by openssl), log files rotated by rename and truncated, processes loading
//! memory and CPU; and `for_cycles` on a check that fails and passes for real.

mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const OPENSSL: Need = Need::Program("/usr/bin/openssl", "openssl");

/// One scan's JSON line of the check `name`.
fn line<'a>(scan: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    scan["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {scan}"))
}

fn scan(host: &Host) -> serde_json::Value {
    host.run(&["--json", "scan"]).ok().json()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for `cn` valid from `start` to `end` (openssl ca dates,
/// YYYYMMDDHHMMSSZ), as `NAME.pem` and `NAME.key` in `dir`.
fn certificate(dir: &Path, name: &str, cn: &str, start: &str, end: &str) {
    let ca = dir.join(format!("ca-{name}"));
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::write(ca.join("index.txt"), "").unwrap();
    std::fs::write(ca.join("serial"), "01\n").unwrap();
    // An X.509 v3 certificate, as servers have: extensions make it one.
    std::fs::write(
        ca.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca = self\n[self]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
             default_md = sha256\npolicy = any\nemail_in_dn = no\nunique_subject = no\nx509_extensions = ext\n\
             [any]\ncommonName = supplied\n[ext]\nbasicConstraints = CA:FALSE\nsubjectAltName = DNS:{cn}\n"
        ),
    )
    .unwrap();
    let key = dir.join(format!("{name}.key"));
    let pem = dir.join(format!("{name}.pem"));
    let (key, pem) = (key.to_str().unwrap(), pem.to_str().unwrap());
    let subject = format!("/CN={cn}");
    openssl(
        &ca,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            key,
            "-out",
            "req.csr",
            "-subj",
            &subject,
        ],
    );
    openssl(
        &ca,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            key,
            "-in",
            "req.csr",
            "-out",
            pem,
            "-startdate",
            start,
            "-enddate",
            end,
            "-notext",
        ],
    );
}

/// openssl's date form for now + `days`.
fn days_from_now(days: i64) -> String {
    let at = now_secs() as i64 + days * 86_400;
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{at}"), "+%Y%m%d%H%M%SZ"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `openssl s_server` on a free port with `NAME.pem`, and `SNI.pem` for the name `sni`.
struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(dir: &Path, name: &str, sni: Option<(&str, &str)>) -> TlsServer {
        let port = free_port();
        let mut command = Command::new("openssl");
        command
            .current_dir(dir)
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "-cert",
                &format!("{name}.pem"),
                "-key",
                &format!("{name}.key"),
            ]);
        if let Some((server_name, other)) = sni {
            command.args([
                "-servername",
                server_name,
                "-cert2",
                &format!("{other}.pem"),
                "-key2",
                &format!("{other}.key"),
            ]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        wait_until("s_server listens", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        TlsServer { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn certificate_expiry_is_judged_on_real_tls_servers_with_sni() {
    require_system!(
        "certificate_expiry_is_judged_on_real_tls_servers_with_sni",
        OPENSSL
    );
    let host = Host::new();
    let dir = host.dir.path();
    let long_ago = "20200101000000Z";
    certificate(dir, "fine", "fine.test", long_ago, &days_from_now(90));
    certificate(dir, "soon", "soon.test", long_ago, &days_from_now(20));
    certificate(
        dir,
        "very-soon",
        "very-soon.test",
        long_ago,
        &days_from_now(3),
    );
    certificate(dir, "expired", "expired.test", long_ago, "20200201000000Z");
    certificate(
        dir,
        "future",
        "future.test",
        &days_from_now(10),
        &days_from_now(100),
    );
    let fine = TlsServer::start(dir, "fine", Some(("expired.test", "expired")));
    let soon = TlsServer::start(dir, "soon", None);
    let very_soon = TlsServer::start(dir, "very-soon", None);
    let future = TlsServer::start(dir, "future", None);
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = free_port();
    let check = |name: &str, port: u16, extra: &str| {
        format!(
            "[[checks]]\nname = \"{name}\"\nkind = \"certificate\"\naddress = \"127.0.0.1:{port}\"\n\
             server_name = \"{name}.test\"\ntimeout = \"3s\"\n{extra}\n"
        )
    };
    let config = [
        check("fine", fine.port, ""),
        // The same server gives the expired certificate to the name it was told to (SNI).
        check("expired", fine.port, ""),
        check("soon", soon.port, ""),
        check("very-soon", very_soon.port, ""),
        check(
            "soon-with-short-warning",
            soon.port,
            "warn_days = 10\ncrit_days = 2",
        ),
        check("future", future.port, ""),
        check("not-tls", plain.local_addr().unwrap().port(), ""),
        check("closed", closed, ""),
    ]
    .concat();
    host.write_config(&config);
    // A server that accepts and never speaks: the handshake times out at the check's timeout.
    let scan = scan(&host);
    let expect = [
        ("fine", "ok", "CN=fine.test"),
        ("expired", "critical", "expired"),
        ("soon", "warning", "expires in 19 day(s)"),
        ("very-soon", "critical", "expires in 2 day(s)"),
        ("soon-with-short-warning", "ok", "expires in 19 day(s)"),
        ("future", "critical", "is not valid before"),
        ("not-tls", "critical", "timed out"),
        ("closed", "critical", "refused"),
    ];
    for (name, status, said) in expect {
        let check = line(&scan, name);
        assert_eq!(check["status"], status, "{check}");
        assert_contains(check["summary"].as_str().unwrap(), said);
    }
    assert_contains(
        line(&scan, "expired")["summary"].as_str().unwrap(),
        "CN=expired.test",
    );
    let days: f64 = host
        .query_text("SELECT perfdata FROM checks WHERE name = 'fine'")
        .parse::<serde_json::Value>()
        .unwrap()[0]["value"]
        .as_f64()
        .unwrap();
    assert_eq!(days, 89.0);
}

#[test]
fn certificate_keys_are_checked_with_their_line() {
    let host = Host::new();
    host.write_config(
        "[[checks]]\nname = \"tls\"\nkind = \"certificate\"\naddress = \"example.org\"\n\
         [[checks]]\nname = \"tls2\"\nkind = \"certificate\"\naddress = \"example.org:443\"\nwarn_days = 5\ncrit_days = 10\n",
    );
    let run = host.run(&["config", "check"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_contains(&run.stderr, "orchestrator.toml:4:");
    assert_contains(&run.stderr, "expected host:port");
    assert_contains(&run.stderr, "orchestrator.toml:10:");
    assert_contains(&run.stderr, "`crit_days` (10) is more than `warn_days` (5)");
}
