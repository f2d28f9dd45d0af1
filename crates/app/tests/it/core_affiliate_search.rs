//! The affiliate list's text search (`AffiliateFilter::search`), through the core on both
//! engines: email or name, case-insensitive, `%` and `_` literal, with the other filters, the
//! total counted with the same filter, and only the actor's affiliates. Every search text holds
//! a character the world's random ids cannot (a space, `@`, `%`, `_`), so no id matches by chance.

use refline_core::affiliates::NewAffiliate;
use refline_domain::MembershipStatus;
use refline_store::{AffiliateFilter, AffiliateSort, PageRequest};

use crate::{core_support::CoreWorld, engine_tests, support::Engine};

fn page() -> PageRequest<AffiliateSort> {
    PageRequest { limit: 2, offset: 0, sort: AffiliateSort::Email, descending: false }
}

fn search(text: &str) -> AffiliateFilter {
    AffiliateFilter { search: Some(text.to_string()), ..AffiliateFilter::default() }
}

async fn affiliates_are_searched_by_email_or_name(engine: Engine) {
    let w = CoreWorld::new(&engine).await;
    let (core, owner) = (&w.core, w.owner());
    for (email, name) in
        [("ana@aff.test", Some("Ana Sales")), ("bo_b@aff.test", Some("100% Bob")), ("cy@aff.test", None)]
    {
        let input = NewAffiliate {
            email: Some(email.into()),
            name: name.map(str::to_string),
            campaign_id: Some(w.campaign.clone()),
            ..NewAffiliate::default()
        };
        core.create_affiliate(&owner, input).await.unwrap();
    }
    let emails = |found: &refline_store::Page<refline_store::MembershipView>| {
        found.items.iter().map(|m| m.email.clone()).collect::<Vec<_>>()
    };

    let all = core.list_affiliates(&owner, &AffiliateFilter::default(), page()).await.unwrap();
    assert_eq!(all.total, 4, "the world's affiliate and three more");
    let by_name = core.list_affiliates(&owner, &search("NA SALES"), page()).await.unwrap();
    assert_eq!((emails(&by_name), by_name.total), (vec!["ana@aff.test".to_string()], 1));
    let by_email = core.list_affiliates(&owner, &search("  CY@AFF "), page()).await.unwrap();
    assert_eq!(
        (emails(&by_email), by_email.total),
        (vec!["cy@aff.test".to_string()], 1),
        "trimmed, any case"
    );

    // `%` and `_` match only themselves; blank is no search.
    let percent = core.list_affiliates(&owner, &search("%"), page()).await.unwrap();
    assert_eq!(emails(&percent), ["bo_b@aff.test"]);
    let underscore = core.list_affiliates(&owner, &search("o_b@"), page()).await.unwrap();
    assert_eq!(emails(&underscore), ["bo_b@aff.test"]);
    let not_a_wildcard = core.list_affiliates(&owner, &search("a_s"), page()).await.unwrap();
    assert_eq!(not_a_wildcard.total, 0, "`_` is not any character (\"Ana Sales\" has \"a s\")");
    assert_eq!(core.list_affiliates(&owner, &search("   "), page()).await.unwrap().total, 4);

    // The total counts every match beyond the page; the other filters still apply.
    let many = core.list_affiliates(&owner, &search("@aff.test"), page()).await.unwrap();
    assert_eq!((many.items.len(), many.total), (2, 3));
    let second = w.second_campaign().await;
    let on_second = AffiliateFilter { campaign_id: Some(second), ..search("@") };
    assert_eq!(core.list_affiliates(&owner, &on_second, page()).await.unwrap().total, 1);
    let pending = AffiliateFilter { status: Some(MembershipStatus::Pending), ..search("@aff.test") };
    assert_eq!(core.list_affiliates(&owner, &pending, page()).await.unwrap().total, 0);

    // Another merchant finds none of them.
    assert_eq!(core.list_affiliates(&w.intruder(), &search("@aff.test"), page()).await.unwrap().total, 0);
}

engine_tests!(affiliates_are_searched_by_email_or_name);
