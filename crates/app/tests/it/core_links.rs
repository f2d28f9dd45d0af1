//! The core's link operations, called directly (no HTTP), on both engines: the short-code rule,
//! `code_taken`, the membership check, rights by operation, tenancy, effects and the clock.

use refline_core::{links::LinkInput, ErrorKind, Issue};
use refline_store::{LinkFilter, PageRequest};

use crate::{
    core_support::{fields, CoreWorld},
    engine_tests,
    support::Engine,
};

fn page() -> PageRequest<()> {
    PageRequest { limit: 25, offset: 0, sort: (), descending: true }
}

async fn links_through_the_core(engine: Engine) {
    let w = CoreWorld::new(&engine).await;
    let (core, owner) = (&w.core, w.owner());
    let input = |code: Option<&str>| LinkInput {
        campaign_id: Some(w.campaign.clone()),
        affiliate_id: Some(w.affiliate.clone()),
        code: code.map(str::to_string),
        unreadable: Vec::new(),
    };

    // A generated code, the public URL, time from the injected clock, caches invalidated.
    let made = core.create_link(&owner, input(None)).await.unwrap();
    let link = &made.view.link;
    assert_eq!(link.code.len(), 8);
    assert_eq!(made.url, format!("https://refline.test/l/{}", link.code));
    assert!(w.stamped_by_clock(link.created_at), "created_at from the injected clock");
    assert_eq!(w.effects.links(), 1, "a new link invalidates link caches");

    // A chosen code; the same code again is taken (codes are global).
    let chosen = core.create_link(&owner, input(Some("spring-sale"))).await.unwrap();
    assert_eq!(chosen.view.link.code, "spring-sale");
    let taken = core.create_link(&owner, input(Some("spring-sale"))).await.unwrap_err();
    assert_eq!((taken.kind, taken.code), (ErrorKind::Conflict, "code_taken"));
    assert_eq!(taken.details.as_deref().unwrap()["code"], "spring-sale");
    let theirs = LinkInput { campaign_id: Some("x".into()), affiliate_id: Some("y".into()), ..input(None) };
    assert_eq!(
        core.create_link(&w.intruder(), LinkInput { code: Some("spring-sale".into()), ..theirs })
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound,
        "another merchant's campaign is not found before any code is tried"
    );

    // Every problem at once, in field order: the door's and the rule's.
    let bad = LinkInput {
        campaign_id: None,
        code: Some("a!".into()),
        unreadable: vec![Issue::field("campaignId", "campaignId is required")],
        ..input(None)
    };
    let err = core.create_link(&owner, bad).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "validation_error"));
    assert_eq!(fields(&err), ["campaignId", "code"]);

    // The affiliate must be on the campaign.
    let stray = LinkInput { affiliate_id: Some("aff_nobody".into()), ..input(None) };
    let err = core.create_link(&owner, stray).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("membership"), "{}", err.message);

    // Rights are the operation's: read-only is refused; a test key may make links (they are
    // the merchant's, not the live program's terms).
    let err = core.create_link(&w.reader(), input(None)).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Forbidden, "insufficient_permissions"));
    let err = core.delete_link(&w.reader(), &link.id).await.unwrap_err();
    assert_eq!(err.code, "insufficient_permissions");
    assert!(core.get_link(&w.reader(), &link.id).await.is_ok(), "reads need no write rights");
    assert!(core.create_link(&w.tester(), input(None)).await.is_ok());

    // Another merchant sees nothing and deletes nothing.
    let intruder = w.intruder();
    assert_eq!(core.get_link(&intruder, &link.id).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(core.delete_link(&intruder, &link.id).await.unwrap_err().kind, ErrorKind::NotFound);
    let none = core.list_links(&intruder, &LinkFilter::default(), page()).await.unwrap();
    assert_eq!(none.total, 0);

    let mine = LinkFilter { campaign_id: Some(w.campaign.clone()), affiliate_id: None };
    let listed = core.list_links(&owner, &mine, page()).await.unwrap();
    assert_eq!(listed.total, 3);
    assert!(listed.items.iter().all(|l| l.url.starts_with("https://refline.test/l/")));

    let links_before = w.effects.links();
    core.delete_link(&owner, &link.id).await.unwrap();
    assert_eq!(w.effects.links(), links_before + 1, "a deleted link invalidates link caches");
    assert_eq!(core.get_link(&owner, &link.id).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(w.effects.outbox(), 0, "links queue no webhooks");
}

engine_tests!(links_through_the_core);
