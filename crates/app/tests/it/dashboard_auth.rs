//! The dashboard's doors in: sign-up, login and its throttle, logout and revoked sessions, the
//! CSRF check, password reset by mail, `/merchant/api-keys`, users made by the operator, and the
//! mail outbox's delivery (a mail directory and a real SMTP conversation). Over HTTP, both
//! engines.

use std::{sync::Arc, time::Duration};

use refline_core::{clock::SystemClock, effects::NoEffects, team::users::NewUser, Core, Door};
use refline_domain::Role;
use reqwest::{header, StatusCode};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use crate::{
    dashboard_support::{brand_of, csrf_of, field_error, last_mail_to, link_in, Browser, PASSWORD},
    engine_tests,
    support::{Engine, TestApp},
};

fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", refline_server::ids::new_id("u").to_lowercase())
}

async fn sign_up_refuses_bad_fields_next_to_each(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let browser = Browser::new(&app);
    let refused = browser
        .submit(
            "/auth/sign-up",
            "/auth/sign-up",
            &[("email", "not-an-email"), ("password", "short"), ("businessName", " ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_error(&refused.html, "email").as_deref(), Some("enter a valid email address"));
    assert!(field_error(&refused.html, "password").unwrap().contains("at least 10"));
    assert!(field_error(&refused.html, "businessName").unwrap().contains("1 to 200"));
    assert!(app.store.find_user_by_email("not-an-email").await.unwrap().is_none());

    // The entered values come back (except the password).
    let address = email("dup");
    let (_, _) = Browser::sign_up(&app, &address, "First").await;
    let again = Browser::new(&app)
        .submit(
            "/auth/sign-up",
            "/auth/sign-up",
            &[("email", &address.to_uppercase()), ("password", PASSWORD), ("businessName", "Second")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(field_error(&again.html, "email").as_deref(), Some("this email already has a login"));
    assert!(again.html.contains(r#"value="Second""#));
    assert!(!again.html.contains(PASSWORD));
    app.stop().await;
}

async fn login_logout_and_revoked_sessions(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let address = email("login");
    let (first, merchant) = Browser::sign_up(&app, &address, "Login Co").await;
    assert_eq!(first.get("/merchant").await.status, StatusCode::OK);

    // Signed out, pages send you to the login and come back after it.
    let stranger = Browser::new(&app);
    let bounced = stranger.get("/merchant/api-keys").await;
    assert_eq!(bounced.status, StatusCode::SEE_OTHER);
    assert_eq!(bounced.location.as_deref(), Some("/auth/login?next=%2Fmerchant%2Fapi-keys"));

    // A wrong password is refused like an unknown email.
    let wrong = stranger.log_in(&address, "not the password at all").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("Wrong email or password"));
    let unknown = stranger.log_in(&email("nobody"), PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.html.contains("Wrong email or password"));

    // A session from a login; its cookie token is kept to replay after logout.
    let second = Browser::new(&app);
    let login = second
        .submit(
            "/auth/login",
            "/auth/login",
            &[("email", &address), ("password", PASSWORD), ("next", "/merchant/api-keys")],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.location.as_deref(), Some("/merchant/api-keys"));
    let cookie = session_cookie_after_login(&app, &address).await;
    assert_eq!(with_cookie(&app, &cookie, "/merchant").await, StatusCode::OK);
    let logout = second.submit("/merchant", "/auth/logout", &[]).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(second.get("/merchant").await.status, StatusCode::SEE_OTHER);
    // The other browser's session lives on; the first one's token is dead after its logout.
    assert_eq!(first.get("/merchant").await.status, StatusCode::OK);
    let out = Browser::new(&app);
    let _ = out.get("/auth/login").await;
    let logout_cookie = format!("refline_session={cookie}");
    let page = app.client_get_with_cookie(&logout_cookie, "/merchant").await;
    let token = csrf_of(&page).unwrap();
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/auth/logout"))
        .header(header::COOKIE, &logout_cookie)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        with_cookie(&app, &cookie, "/merchant").await,
        StatusCode::SEE_OTHER,
        "a revoked session is refused"
    );

    // Logins and failed logins are in the brand's audit log with the person.
    let entries = app.store.recent_audit_entries(Some(&merchant), 50).await.unwrap();
    let user = app.store.find_user_by_email(&address).await.unwrap().unwrap();
    assert!(entries.iter().any(|e| e.operation.as_deref() == Some("session.login")
        && e.error_code.as_deref() == Some("invalid_credentials")
        && e.user_id.as_deref() == Some(user.id.as_str())
        && e.door == "dashboard"));
    assert!(entries
        .iter()
        .any(|e| e.operation.as_deref() == Some("session.login") && e.error_code.is_none()));
    app.stop().await;
}

/// Logs `address` in on a client without a jar and answers the session token it was given.
async fn session_cookie_after_login(app: &TestApp, address: &str) -> String {
    let browser = Browser::new(app);
    let page = browser.get("/auth/login").await;
    let token = csrf_of(&page.html).unwrap();
    let response = browser
        .client
        .post(app.url("/auth/login"))
        .form(&[("csrf_token", token.as_str()), ("email", address), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("refline_session="))
        .expect("session cookie")
        .to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    assert!(!set.contains("Secure"), "plain http test server: {set}");
    set["refline_session=".len()..].split(';').next().unwrap().to_string()
}

async fn with_cookie(app: &TestApp, token: &str, path: &str) -> StatusCode {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header(header::COOKIE, format!("refline_session={token}"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn failed_logins_are_throttled(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let address = email("throttle");
    let _ = Browser::sign_up(&app, &address, "Throttle Co").await;
    let browser = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(browser.log_in(&address, "wrong password 123").await.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = browser.log_in(&address, PASSWORD).await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits: {}",
        blocked.html
    );
    assert!(blocked.html.contains("Too many failed logins"));
    app.stop().await;
}

async fn forms_without_their_token_are_refused(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, merchant) = Browser::sign_up(&app, &email("csrf"), "Csrf Co").await;
    let keys_before = app.store.list_api_keys(&merchant).await.unwrap().len();
    let missing = browser.post_raw("/merchant/api-keys", &[("kind", "live")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.html.contains("Form expired"));
    let forged =
        browser.post_raw("/merchant/api-keys", &[("csrf_token", "0123456789abcdef"), ("kind", "live")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Pre-login forms too.
    let anonymous = Browser::new(&app)
        .post_raw("/auth/sign-up", &[("email", &email("x")), ("password", PASSWORD), ("businessName", "X")])
        .await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.list_api_keys(&merchant).await.unwrap().len(), keys_before, "nothing was written");
    // The audit writer stores entries in the background: wait for the refusal's entry.
    let mut refused = false;
    for _ in 0..100 {
        let entries = app.store.recent_audit_entries(Some(&merchant), 20).await.unwrap();
        refused = entries
            .iter()
            .any(|e| e.error_code.as_deref() == Some("csrf_failed") && e.status_code == Some(403));
        if refused {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "the refused form is in the audit log");
    app.stop().await;
}

async fn passwords_are_reset_by_mail(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let address = email("reset");
    let (old_browser, _) = Browser::sign_up(&app, &address, "Reset Co").await;
    let stranger = Browser::new(&app);
    let asked = stranger.submit("/auth/reset", "/auth/reset", &[("email", &address)]).await;
    assert_eq!(asked.status, StatusCode::OK);
    let nobody = stranger.submit("/auth/reset", "/auth/reset", &[("email", &email("ghost"))]).await;
    assert_eq!(nobody.status, StatusCode::OK);
    assert_eq!(
        asked.html.replace(&address, ""),
        nobody.html.replace(&address, ""),
        "no hint whether the email exists"
    );

    let mail = last_mail_to(app.store.as_ref(), &address).await;
    assert_eq!(mail.kind, "password_reset");
    let link = link_in(&mail.body_text, &app.url(""));
    assert!(link.starts_with("/auth/reset/"));
    let form = stranger.get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains(&address));
    let short = stranger.submit(&link, &link, &[("password", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&short.html, "password").is_some());
    let done = stranger.submit(&link, &link, &[("password", "a brand new passphrase")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(stranger.get(&link).await.status, StatusCode::NOT_FOUND, "a link works once");
    assert_eq!(old_browser.get("/merchant").await.status, StatusCode::SEE_OTHER, "old sessions end");
    assert_eq!(Browser::new(&app).log_in(&address, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        Browser::new(&app).log_in(&address, "a brand new passphrase").await.status,
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}

async fn api_keys_are_shown_once(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, merchant) = Browser::sign_up(&app, &email("keys"), "Keys Co").await;
    let page = browser.get("/merchant/api-keys").await;
    assert!(page.html.contains("read and write keys"), "ultimate is read-write");
    let bad = browser.submit("/merchant/api-keys", "/merchant/api-keys", &[("kind", "admin")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_error_kind(&bad.html).as_deref(), Some("choose live or test"));

    let key = browser.api_key("live").await;
    assert!(key.starts_with("lj_pk_") && !key.starts_with("lj_pk_test_"));
    let me = app.get(&key, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["data"]["merchant"]["id"], merchant.as_str());
    let reload = browser.get("/merchant/api-keys").await;
    assert!(!reload.html.contains(&key), "the full key is never shown again");
    assert!(reload.html.contains(&key[key.len() - 4..]), "its hint is");
    let test_key = browser.api_key("test").await;
    assert!(test_key.starts_with("lj_pk_test_"));

    // Revoke: the key stops working.
    let listed = app.store.list_api_keys(&merchant).await.unwrap();
    let id = listed
        .iter()
        .find(|k| {
            key.ends_with(&k.hint[k.hint.len() - 4..]) && k.kind.as_str() == "live" && k.revoked_at.is_none()
        })
        .unwrap()
        .id
        .clone();
    let revoked = browser.submit("/merchant/api-keys", &format!("/merchant/api-keys/{id}/revoke"), &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&key, "/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    // Another brand's key id is not found.
    let (other, _) = Browser::sign_up(&app, &email("keys2"), "Other Co").await;
    let other_key = other.api_key("live").await;
    let other_id = app
        .store
        .list_api_keys(&brand_of(app.store.as_ref(), &other_key_owner(&app, &other_key).await).await)
        .await
        .unwrap()[0]
        .id
        .clone();
    let cross =
        browser.submit("/merchant/api-keys", &format!("/merchant/api-keys/{other_id}/revoke"), &[]).await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&other_key, "/api/v1/me").await.status, StatusCode::OK);

    // The audit log names the person and the operation.
    let entries = app.store.recent_audit_entries(Some(&merchant), 50).await.unwrap();
    let created = entries
        .iter()
        .find(|e| e.operation.as_deref() == Some("api_key.create") && e.status_code == Some(201))
        .unwrap();
    assert_eq!(created.door, "dashboard");
    assert!(created.user_id.as_deref().is_some_and(|u| u.starts_with("usr_")));
    app.stop().await;
}

fn field_error_kind(html: &str) -> Option<String> {
    let at = html.find(r#"<p class="error">"#)?;
    html[at + r#"<p class="error">"#.len()..].split("</p>").next().map(str::to_string)
}

/// The email of the account owning `key`'s brand.
async fn other_key_owner(app: &TestApp, key: &str) -> String {
    let me = app.get(key, "/api/v1/me").await;
    let merchant = me.body["data"]["merchant"]["id"].as_str().unwrap().to_string();
    let team = app.store.team_of_brand(&merchant).await.unwrap();
    team[0].email.clone()
}

async fn the_operator_creates_logins(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let merchant = app.merchant("pro").await;
    let core =
        Core::without_sales(app.store.clone(), Arc::new(SystemClock), Arc::new(NoEffects), &app.url(""));
    let address = email("operator");
    let created = core
        .create_user(
            &Door::Cli,
            NewUser {
                email: address.clone(),
                merchant_id: merchant.id.clone(),
                role: Role::Owner,
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
    assert!(created.setup_link.is_none());
    let browser = Browser::new(&app);
    assert_eq!(browser.log_in(&address, PASSWORD).await.status, StatusCode::SEE_OTHER);
    let keys = browser.get("/merchant/api-keys").await;
    assert!(keys.html.contains("read-only keys"), "a pro brand's keys are read-only");
    assert!(
        app.store.account_of_brand(&merchant.id).await.unwrap().is_some(),
        "the owner's account now owns the brand"
    );

    // Without a password: a one-time link sets it.
    let member = email("member");
    let linked = core
        .create_user(
            &Door::Cli,
            NewUser {
                email: member.clone(),
                merchant_id: merchant.id.clone(),
                role: Role::Member,
                password: None,
            },
        )
        .await
        .unwrap();
    let link = linked.setup_link.unwrap();
    let path = link.strip_prefix(&app.url("")).unwrap().to_string();
    let fresh = Browser::new(&app);
    assert_eq!(
        fresh.submit(&path, &path, &[("password", "member passphrase 1")]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(fresh.log_in(&member, "member passphrase 1").await.status, StatusCode::SEE_OTHER);
    // A member without the right may not manage keys.
    let refused = fresh.submit("/merchant/api-keys", "/merchant/api-keys", &[("kind", "live")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.html.contains("manage API keys"));
    let dup = core
        .create_user(
            &Door::Cli,
            NewUser {
                email: member.clone(),
                merchant_id: merchant.id.clone(),
                role: Role::Member,
                password: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(dup.code, "duplicate");
    app.stop().await;
}

engine_tests!(
    sign_up_refuses_bad_fields_next_to_each,
    login_logout_and_revoked_sessions,
    failed_logins_are_throttled,
    forms_without_their_token_are_refused,
    passwords_are_reset_by_mail,
    api_keys_are_shown_once,
    the_operator_creates_logins,
);

// ---- Mail delivery (SQLite: the outbox's SQL is shared, the transport is what is tested). ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_are_written_to_the_mail_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let app = TestApp::start_with(&Engine::Sqlite, |config| {
        config.mail.mail_dir = Some(path.clone());
        config.mail.poll = Duration::from_millis(100);
    })
    .await;
    let address = email("maildir");
    let _ = Browser::sign_up(&app, &address, "Mail Co").await;
    let _ = Browser::new(&app).submit("/auth/reset", "/auth/reset", &[("email", &address)]).await;
    let file = wait_for(|| {
        std::fs::read_dir(&path)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "eml"))
    })
    .await;
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(&format!("To: {address}")), "{text}");
    assert!(text.contains("Subject: Reset your Refline password"));
    assert!(text.contains("/auth/reset/"));
    let mail = last_mail_to(app.store.as_ref(), &address).await;
    let sent = wait_for_status(&app, &address, "sent").await;
    assert_eq!(sent.id, mail.id);
    let partial: Vec<_> = std::fs::read_dir(&path)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "a half-written mail was left behind: {partial:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_go_out_over_smtp_and_failures_are_retried() {
    let (url, received) = fake_smtp().await;
    let app = TestApp::start_with(&Engine::Sqlite, |config| {
        config.mail.smtp_url = Some(url.clone());
        config.mail.poll = Duration::from_millis(100);
    })
    .await;
    let address = email("smtp");
    let _ = Browser::sign_up(&app, &address, "Smtp Co").await;
    let _ = Browser::new(&app).submit("/auth/reset", "/auth/reset", &[("email", &address)]).await;
    let data = wait_for(|| received.lock().unwrap().clone()).await;
    assert!(data.contains(&format!("RCPT TO:<{address}>")), "{data}");
    assert!(data.contains("Subject: Reset your Refline password"), "{data}");
    wait_for_status(&app, &address, "sent").await;
    app.stop().await;

    // Nobody listens: the mail stays pending with its error, due again later.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("smtp://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = TestApp::start_with(&Engine::Sqlite, |config| {
        config.mail.smtp_url = Some(dead);
        config.mail.poll = Duration::from_millis(100);
    })
    .await;
    let address = email("down");
    let _ = Browser::sign_up(&app, &address, "Down Co").await;
    let _ = Browser::new(&app).submit("/auth/reset", "/auth/reset", &[("email", &address)]).await;
    let failed = wait_for_mail(&app, &address, |m| m.attempts == 1).await;
    assert_eq!(failed.status, "pending");
    assert!(failed.last_error.is_some());
    assert!(failed.next_attempt_at >= failed.created_at + 55_000, "retried after a minute");
    app.stop().await;
}

async fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(found) = probe() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not within 10 s");
}

async fn wait_for_mail(
    app: &TestApp,
    to: &str,
    done: impl Fn(&refline_store::OutgoingMail) -> bool,
) -> refline_store::OutgoingMail {
    for _ in 0..100 {
        let mail = last_mail_to(app.store.as_ref(), to).await;
        if done(&mail) {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("mail to {to} not in the expected state within 10 s");
}

async fn wait_for_status(app: &TestApp, to: &str, status: &str) -> refline_store::OutgoingMail {
    wait_for_mail(app, to, |m| m.status == status).await
}

/// A minimal SMTP server on loopback: accepts every mail and keeps the conversation's client
/// side (commands and data).
pub(crate) async fn fake_smtp() -> (String, Arc<std::sync::Mutex<Option<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let received = Arc::new(std::sync::Mutex::new(None));
    let keep = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let mut log = String::new();
                let _ = write.write_all(b"220 fake ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    log.push_str(&line);
                    log.push('\n');
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = write.write_all(b"250 queued\r\n").await;
                            *keep.lock().unwrap() = Some(log.clone());
                        }
                        continue;
                    }
                    let upper = line.to_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-fake\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (url, received)
}
