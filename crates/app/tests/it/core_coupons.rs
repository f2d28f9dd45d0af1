//! The core's coupon operations, called directly (no HTTP), on both engines: the code and
//! discount rules, idempotent registration, duplicates, rights, tenancy and the clock.

use refline_core::{coupons::CouponInput, ErrorKind, Issue};
use refline_processors::Provider;
use refline_store::{CouponFilter, PageRequest};

use crate::{
    core_support::{fields, CoreWorld},
    engine_tests,
    support::Engine,
};

async fn coupons_through_the_core(engine: Engine) {
    let w = CoreWorld::new(&engine).await;
    let (core, owner) = (&w.core, w.owner());
    let input = |code: &str, campaign: &str| CouponInput {
        code: Some(code.into()),
        campaign_id: Some(campaign.into()),
        affiliate_id: Some(w.affiliate.clone()),
        ..CouponInput::default()
    };

    // Stripe unless told otherwise; the actor's currency for an amount; time from the clock.
    let first = core
        .register_coupon(
            &owner,
            CouponInput {
                amount_off: Some("5.5".into()),
                amount_off_sent: true,
                ..input("SPRING10", &w.campaign)
            },
        )
        .await
        .unwrap();
    assert!(first.created);
    let c = &first.coupon;
    assert_eq!(c.provider.as_deref(), Some("stripe"));
    assert_eq!((c.amount_off_minor, c.currency.as_deref()), (Some(550), Some("eur")));
    assert!(w.stamped_by_clock(c.created_at), "created_at from the injected clock");

    // The same code for the same credit is the same coupon; for another credit, a duplicate.
    let again = core.register_coupon(&owner, input("SPRING10", &w.campaign)).await.unwrap();
    assert_eq!((again.created, again.coupon.id.as_str()), (false, c.id.as_str()));
    let other_campaign = w.second_campaign().await;
    let dup = core.register_coupon(&owner, input("SPRING10", &other_campaign)).await.unwrap_err();
    assert_eq!((dup.kind, dup.code), (ErrorKind::Conflict, "duplicate"));
    assert_eq!(dup.details.as_deref().unwrap()["id"], c.id.as_str());
    let paddle = CouponInput { provider: Some(Provider::Paddle), ..input("SUMMER", &other_campaign) };
    let paddle = core.register_coupon(&owner, paddle).await.unwrap();
    assert_eq!(paddle.coupon.provider.as_deref(), Some("paddle"));

    // Every problem at once, in field order, the door's among the rules'.
    let bad = CouponInput {
        code: Some("has space".into()),
        create_in_provider: true,
        percent_off: Some(10),
        percent_off_sent: true,
        amount_off: Some("3".into()),
        amount_off_sent: true,
        currency: Some("zzz".into()),
        duration: Some("repeating".into()),
        unreadable: vec![Issue::field("providerCouponId", "providerCouponId must be a string")],
        ..input("x", &w.campaign)
    };
    let err = core.register_coupon(&owner, bad).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "validation_error"));
    assert_eq!(
        fields(&err),
        ["code", "providerCouponId", "createInProvider", "amountOff", "currency", "durationInMonths"]
    );
    let stray = CouponInput { affiliate_id: Some("aff_nobody".into()), ..input("NEW", &w.campaign) };
    assert_eq!(core.register_coupon(&owner, stray).await.unwrap_err().kind, ErrorKind::NotFound);

    // Rights are the operation's.
    let err = core.register_coupon(&w.reader(), input("RO", &w.campaign)).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Forbidden, "insufficient_permissions"));
    assert_eq!(core.delete_coupon(&w.reader(), &c.id).await.unwrap_err().code, "insufficient_permissions");
    assert!(core.get_coupon(&w.reader(), &c.id).await.is_ok());

    // Another merchant's coupon is not found, its campaign neither.
    let intruder = w.intruder();
    assert_eq!(core.get_coupon(&intruder, &c.id).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(core.delete_coupon(&intruder, &c.id).await.unwrap_err().kind, ErrorKind::NotFound);
    let theirs = core.register_coupon(&intruder, input("SPRING10", &w.campaign)).await.unwrap_err();
    assert_eq!(theirs.kind, ErrorKind::NotFound);

    let page = PageRequest { limit: 25, offset: 0, sort: (), descending: true };
    let by_code = CouponFilter { code: Some("spring10".into()), ..CouponFilter::default() };
    assert_eq!(core.list_coupons(&owner, &by_code, page).await.unwrap().total, 1);
    assert_eq!(core.list_coupons(&intruder, &CouponFilter::default(), page).await.unwrap().total, 0);

    core.delete_coupon(&owner, &c.id).await.unwrap();
    assert_eq!(core.get_coupon(&owner, &c.id).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!((w.effects.links(), w.effects.outbox()), (0, 0), "coupons set off nothing");
}

engine_tests!(coupons_through_the_core);
