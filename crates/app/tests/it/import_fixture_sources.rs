//! One small program, rendered in the shape of each source the fake serves
//! (`import_fake_sources.rs`), so every importer is checked against the same expectations: six
//! people (three approved, one pending on the second campaign, one rejected, one with an
//! unusable email), their referral tokens (one too short to be a short-link code), three
//! referred customers (one without a processor customer id), ten commissions cycling pending,
//! approved, paid, rejected and refunded, and the source's oddities: a negative commission (a
//! clawback), one of the skipped person, three coupons (Tolt promotion codes, FirstPromoter
//! promo codes; one archived), and per source a FirstPromoter credits reward, a PartnerStack
//! bonus without a sale and a PartnerStack test customer.

use std::collections::BTreeMap;

use refline_processors::fixtures::rfc3339;
use serde_json::{json, Value};

use crate::import_fake_sources::{FakeState, Flavor};

/// Tolt's and FirstPromoter's bearer key.
pub const KEY: &str = "src_secret_key";
/// PartnerStack's key pair.
pub const PAIR: &str = "pk_public:sk_secret";
/// FirstPromoter's account.
pub const ACCOUNT: &str = "acc_12345";
/// The Tolt program.
pub const PROGRAM: &str = "prg_main";

/// `(id, email, status, token, campaign)`; Tolt puts everyone on its one program.
pub const PEOPLE: [(&str, &str, &str, &str, &str); 6] = [
    ("p-alice", "alice@partner.test", "approved", "alice", "c1"),
    ("p-bob", "bob@partner.test", "approved", "bob", "c1"),
    ("p-carol", "carol@partner.test", "approved", "c", "c1"),
    ("p-dave", "dave@partner.test", "pending", "dave", "c2"),
    ("p-erin", "erin@partner.test", "rejected", "erin", "c1"),
    ("p-henry", "not-an-email", "approved", "henry", "c1"),
];

/// The commission statuses cycled through, as Refline names them at the source's meaning.
pub const CYCLE: [&str; 5] = ["pending", "approved", "paid", "rejected", "refunded"];

/// A commission of the program, before any source's shape.
#[derive(Debug, Clone)]
pub struct Commission {
    pub id: String,
    pub person: &'static str,
    pub status: &'static str,
    pub amount: i64,
    pub sale: i64,
    /// Days before now.
    pub days_ago: i64,
}

/// The ten commissions that come across.
pub fn commissions() -> Vec<Commission> {
    (0..10usize)
        .map(|i| Commission {
            id: format!("k-{i}"),
            person: ["p-alice", "p-bob", "p-carol"][i % 3],
            status: CYCLE[i % 5],
            amount: 2000 + 100 * i as i64,
            sale: 10_000 + 1000 * i as i64,
            days_ago: 40 - i as i64,
        })
        .collect()
}

/// The processor customer of a person's sales.
pub fn processor_customer(person: &str) -> Option<&'static str> {
    match person {
        "p-alice" => Some("cus_alice1"),
        "p-bob" => Some("cus_bob1"),
        _ => None,
    }
}

fn email_of(person: &str) -> &'static str {
    PEOPLE.iter().find(|p| p.0 == person).map_or("", |p| p.1)
}

/// The Refline status a source's rendering of `status` must become.
pub fn refline_status(flavor: Flavor, status: &str) -> &'static str {
    match (flavor, status) {
        (Flavor::ToltV1 | Flavor::ToltV2, "refunded") => "refunded",
        (_, "refunded" | "rejected") => "rejected",
        (_, "pending") => "pending",
        (_, "approved") => "approved",
        _ => "paid",
    }
}

/// Unpaid (pending + approved) and paid commission per source affiliate.
pub fn balances(list: &[Commission]) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for c in list {
        let entry = out.entry(c.person.to_string()).or_default();
        match c.status {
            "pending" | "approved" => entry.0 += c.amount,
            "paid" => entry.1 += c.amount,
            _ => {}
        }
    }
    out
}

/// `(entity, (created, updated, unchanged, skipped), skip codes)`.
pub type Expected = (&'static str, (u64, u64, u64, u64), Vec<(&'static str, u64)>);

/// What each entity of a first import must count.
pub fn expected(flavor: Flavor) -> Vec<Expected> {
    let tolt = matches!(flavor, Flavor::ToltV1 | Flavor::ToltV2);
    let mut customers = vec![("no_processor_customer", 1)];
    let mut commissions = vec![("affiliate_not_imported", 1), ("negative_commission", 1)];
    match flavor {
        Flavor::FirstPromoter => commissions.push(("non_cash_reward", 1)),
        Flavor::PartnerStack => {
            commissions.push(("no_sale", 1));
            customers.push(("test_data", 1));
        }
        _ => {}
    }
    let mut all = vec![
        ("campaign", (if tolt { 1 } else { 2 }, 0, 0, 0), vec![]),
        ("affiliate", (5, 0, 0, 1), vec![("invalid_email", 1)]),
        ("link", (4, 0, 0, 2), vec![("affiliate_not_imported", 1), ("invalid_token", 1)]),
        ("customer", (2, 0, 0, customers.len() as u64), customers),
        ("commission", (10, 0, 0, commissions.len() as u64), commissions),
    ];
    if flavor != Flavor::PartnerStack {
        all.push(("coupon", (2, 0, 0, 1), vec![("coupon_archived", 1)]));
    }
    all
}

/// When, `days_ago` days before now: RFC 3339 text, or epoch ms for PartnerStack.
fn at(flavor: Flavor, days_ago: i64) -> Value {
    let s = refline_server::clock::now_ms() / 1000 - days_ago * 86_400;
    if flavor == Flavor::PartnerStack {
        json!(s * 1000)
    } else {
        json!(rfc3339(s))
    }
}

/// The program as `flavor` serves it (paged by whatever `limit`/`per_page` the importer asks).
pub fn program(flavor: Flavor) -> FakeState {
    let mut state = FakeState {
        flavor,
        key: if flavor == Flavor::PartnerStack { PAIR.into() } else { KEY.into() },
        account_id: ACCOUNT.into(),
        program_id: PROGRAM.into(),
        ..FakeState::default()
    };
    let mut list = commissions();
    list.push(Commission {
        id: "k-neg".into(),
        person: "p-alice",
        status: "approved",
        amount: -500,
        sale: 10_000,
        days_ago: 20,
    });
    list.push(Commission {
        id: "k-henry".into(),
        person: "p-henry",
        status: "pending",
        amount: 700,
        sale: 3500,
        days_ago: 20,
    });
    match flavor {
        Flavor::ToltV1 | Flavor::ToltV2 => tolt(&mut state, &list),
        Flavor::FirstPromoter => firstpromoter(&mut state, &list),
        Flavor::PartnerStack => partnerstack(&mut state, &list),
    }
    state
}

fn tolt(state: &mut FakeState, list: &[Commission]) {
    let flavor = state.flavor;
    for (id, email, status, token, _) in PEOPLE {
        let status = match status {
            "approved" => "active",
            "rejected" => "suspended",
            other => other,
        };
        state.list("partners").push(json!({"id": id, "email": email, "first_name": id.to_uppercase(),
            "last_name": "Partner", "status": status, "program_id": PROGRAM, "created_at": at(flavor, 60)}));
        state.list("links").push(json!({"id": format!("lnk-{id}"), "param": "ref", "value": token,
            "partner": {"id": id, "email": email}, "program_id": PROGRAM}));
    }
    for person in ["p-alice", "p-bob", "p-carol"] {
        let code = format!("{}10", person[2..].to_uppercase());
        state
            .list("promotion-codes")
            .push(json!({"id": format!("prc-{person}"), "code": code, "type": "percentage",
            "value": 20, "active": person != "p-bob", "partner_id": person, "program_id": PROGRAM}));
        state.list("customers").push(
            json!({"id": format!("cu-{person}"), "customer_id": processor_customer(person),
            "email": format!("buyer-{person}@customer.test"), "status": "active", "partner": {"id": person},
            "created_at": at(flavor, 50)}),
        );
    }
    for c in list {
        let buyer = processor_customer(c.person).map_or(
            Value::Null,
            |cus| json!({"customer_id": cus, "email": format!("buyer-{}@customer.test", c.person)}),
        );
        state.list("commissions").push(json!({"id": c.id, "amount": c.amount.to_string(), "revenue": c.sale,
            "status": c.status, "source": "stripe", "created_at": at(flavor, c.days_ago),
            "updated_at": at(flavor, 5), "partner": {"id": c.person}, "customer": buyer,
            "transaction": {"id": format!("txn-{}", c.id), "amount": c.sale}, "program_id": PROGRAM}));
    }
}

fn firstpromoter(state: &mut FakeState, list: &[Commission]) {
    let flavor = state.flavor;
    *state.list("campaigns") = vec![
        json!({"id": "c1", "name": "Main campaign", "landing_url": "https://shop.example/", "is_default": true}),
        json!({"id": "c2", "name": "Second campaign", "landing_url": "https://shop.example/two"}),
    ];
    for (id, email, status, token, campaign) in PEOPLE {
        let state_text = match status {
            "approved" => "accepted",
            "rejected" => "denied",
            other => other,
        };
        state.list("promoters").push(
            json!({"id": id, "email": email, "name": format!("{} Partner", id.to_uppercase()),
            "created_at": at(flavor, 60),
            "promoter_campaigns": [{"id": format!("pc-{id}"), "campaign_id": campaign,
                "campaign": {"id": campaign, "name": "x"}, "state": state_text, "ref_token": token}]}),
        );
    }
    for person in ["p-alice", "p-bob", "p-carol"] {
        let uid = processor_customer(person).map_or_else(|| format!("user-{person}"), str::to_string);
        state.list("promo_codes").push(
            json!({"id": format!("pr-{person}"), "code": format!("{}10", person[2..].to_uppercase()),
            "ext_id": format!("promo_{person}"), "promoter_campaign_id": format!("pc-{person}"),
            "archived_at": if person == "p-bob" { json!(rfc3339(1_700_000_000)) } else { Value::Null }}),
        );
        state.list("referrals").push(json!({"id": format!("ref-{person}"), "email": format!("buyer-{person}@customer.test"),
            "uid": uid, "created_at": at(flavor, 50),
            "promoter_campaign": {"promoter": {"id": person, "email": email_of(person)}, "campaign_id": "c1"}}));
    }
    let mut all: Vec<(Commission, &str)> = list.iter().map(|c| (c.clone(), "cash")).collect();
    all.push((
        Commission {
            id: "k-credit".into(),
            person: "p-bob",
            status: "approved",
            amount: 100,
            sale: 1000,
            days_ago: 9,
        },
        "credits",
    ));
    for (c, unit) in all {
        let (status, paid) = match c.status {
            "paid" => ("approved", true),
            "rejected" | "refunded" => ("denied", false),
            other => (other, false),
        };
        let uid = processor_customer(c.person).map_or_else(|| format!("user-{}", c.person), str::to_string);
        state.list("commissions").push(json!({"id": c.id, "status": status, "is_paid": paid, "unit": unit,
            "amount": c.amount, "sale_amount": c.sale, "commission_type": "sale",
            "created_at": at(flavor, c.days_ago), "updated_at": at(flavor, 5),
            "referral": {"email": format!("buyer-{}@customer.test", c.person), "uid": uid},
            "promoter_campaign": {"promoter": {"id": c.person}, "campaign_id": "c1"}}));
    }
}

fn partnerstack(state: &mut FakeState, list: &[Commission]) {
    let flavor = state.flavor;
    *state.list("groups") = vec![
        json!({"key": "c1", "name": "Main group", "slug": "main", "default": true}),
        json!({"key": "c2", "name": "Second group", "slug": "second", "default": false}),
    ];
    for (id, email, status, token, group) in PEOPLE {
        let approved = if status == "rejected" { "declined" } else { status };
        state.list("partnerships").push(json!({"key": id, "email": email, "first_name": id.to_uppercase(),
            "last_name": "Partner", "approved_status": approved, "created_at": at(flavor, 60),
            "group": {"key": group, "slug": group, "name": "x"}}));
        *state.list(&format!("links/partnership/{id}")) = vec![json!({"key": format!("lnk-{id}"),
            "dest": "https://shop.example/", "url": format!("https://shop.partnerlinks.io/{token}")})];
    }
    for person in ["p-alice", "p-bob", "p-carol"] {
        state.list("customers").push(json!({"key": format!("cu-{person}"), "email": format!("buyer-{person}@customer.test"),
            "name": "Buyer", "provider_key": processor_customer(person), "customer_key": format!("app-{person}"),
            "partnership_key": person, "created_at": at(flavor, 50), "test": false}));
    }
    state
        .list("customers")
        .push(json!({"key": "cu-test", "email": "test@customer.test", "provider_key": "cus_test",
        "partnership_key": "p-alice", "created_at": at(flavor, 50), "test": true}));
    for (i, c) in list.iter().enumerate() {
        let status = match c.status {
            "pending" if i >= 5 => "hold",
            "approved" if i >= 5 => "scheduled",
            "rejected" | "refunded" => "declined",
            other => other,
        };
        state.list("rewards").push(json!({"key": c.id, "amount": c.amount, "currency": "USD",
            "created_at": at(flavor, c.days_ago), "updated_at": at(flavor, 5), "reward_status": status,
            "customer": {"email": format!("buyer-{}@customer.test", c.person), "provider_key": processor_customer(c.person)},
            "transaction": {"key": format!("txn-{}", c.id), "amount": c.sale, "currency": "USD"},
            "partnership": {"key": c.person, "email": email_of(c.person)}}));
    }
    state.list("rewards").push(json!({"key": "k-bonus", "amount": 5000, "currency": "USD",
        "created_at": at(flavor, 8), "reward_status": "approved", "transaction": null,
        "partnership": {"key": "p-alice"}}));
}
