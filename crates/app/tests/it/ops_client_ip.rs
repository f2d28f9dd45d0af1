//! Trusted proxies (issue 17): the client IP the audit log (and every other door) records comes
//! from `X-Forwarded-For` / `Forwarded` only when the socket peer is a configured proxy.

use refline_server::http::client_ip::{ForwardedHeader, ProxyNet};
use reqwest::StatusCode;

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

/// Sends an unauthenticated request (a 401, which is audited) with `headers`, and answers the
/// IP its audit entry recorded.
async fn recorded_ip(app: &TestApp, marker: &str, headers: &[(&str, &str)]) -> Option<String> {
    let mut request = app.client().get(app.url("/api/v1/me")).header("user-agent", marker);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    assert_eq!(request.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    app.audit_entry(None, |e| e.user_agent.as_deref() == Some(marker)).await.ip_address
}

fn nets(list: &[&str]) -> Vec<ProxyNet> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

async fn forwarded_addresses_count_only_from_trusted_proxies(engine: Engine) {
    let spoof = [("x-forwarded-for", "6.6.6.6"), ("forwarded", "for=6.6.6.6")];
    // No trusted proxy: the header is anyone's to forge, and ignored.
    let app = TestApp::start(&engine).await;
    assert_eq!(recorded_ip(&app, "ip-untrusted-1", &spoof).await.as_deref(), Some("127.0.0.1"));
    app.stop().await;
    // A trusted range that does not hold the peer: still ignored.
    let app = TestApp::start_with(&engine, |c| c.trusted_proxies = nets(&["10.0.0.0/8"])).await;
    assert_eq!(recorded_ip(&app, "ip-untrusted-2", &spoof).await.as_deref(), Some("127.0.0.1"));
    app.stop().await;

    // The peer (loopback) is a trusted proxy, and so is the inner proxy range 10.0.0.0/8.
    let app =
        TestApp::start_with(&engine, |c| c.trusted_proxies = nets(&["127.0.0.0/8", "10.0.0.0/8"])).await;
    // The client wrote 6.6.6.6; the edge proxy appended 1.2.3.4; an inner proxy appended 10.0.0.5.
    let chain = [("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.5")];
    assert_eq!(recorded_ip(&app, "ip-chain", &chain).await.as_deref(), Some("1.2.3.4"));
    let split = [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "2001:db8::9")];
    assert_eq!(recorded_ip(&app, "ip-split", &split).await.as_deref(), Some("2001:db8::9"));
    // Garbage nearest to us: nothing further out is believed.
    let garbage = [("x-forwarded-for", "6.6.6.6, not-an-ip")];
    assert_eq!(recorded_ip(&app, "ip-garbage", &garbage).await.as_deref(), Some("127.0.0.1"));
    // `Forwarded` is not read unless chosen (a proxy writing X-Forwarded-For passes it through).
    let only_forwarded = [("forwarded", "for=5.5.5.5")];
    assert_eq!(recorded_ip(&app, "ip-other-header", &only_forwarded).await.as_deref(), Some("127.0.0.1"));
    app.stop().await;

    let app = TestApp::start_with(&engine, |c| {
        c.trusted_proxies = nets(&["127.0.0.1"]);
        c.forwarded_header = ForwardedHeader::Forwarded;
    })
    .await;
    let both = [
        ("forwarded", "for=6.6.6.6, for=\"[2001:db8::5]:4711\";proto=https"),
        ("x-forwarded-for", "7.7.7.7"),
    ];
    assert_eq!(recorded_ip(&app, "ip-forwarded", &both).await.as_deref(), Some("2001:db8::5"));
    app.stop().await;
}

engine_tests!(forwarded_addresses_count_only_from_trusted_proxies);
