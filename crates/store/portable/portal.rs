//! [`refline_store::PortalStore`]: affiliate people, joins and invitations.

use async_trait::async_trait;
use refline_domain::MembershipStatus;
use refline_store::{
    Affiliate, Campaign, EnrollOutcome, EnrolledAffiliate, Enrollment, Invitation, OutgoingMail, Person,
    PersonMembership, PortalStore, SignInKind, StoreResult,
};

use super::affiliate::{announce_membership, insert_membership};
use crate::{portable::mail::insert_mail, portable::session::revoke_sessions_of, Engine};

#[async_trait]
impl PortalStore for Engine {
    async fn find_person_by_email(&self, email: &str) -> StoreResult<Option<Person>> {
        Ok(sqlx::query_as("SELECT * FROM affiliate_people WHERE email = $1")
            .bind(email)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn get_person(&self, id: &str) -> StoreResult<Option<Person>> {
        Ok(sqlx::query_as("SELECT * FROM affiliate_people WHERE id = $1")
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn person_memberships(&self, person_id: &str) -> StoreResult<Vec<PersonMembership>> {
        Ok(sqlx::query_as(
            "SELECT a.id AS affiliate_id, a.merchant_id, mc.name AS business_name, m.campaign_id, \
                m.status, m.joined_at \
             FROM affiliates a JOIN memberships m ON m.affiliate_id = a.id \
             JOIN merchants mc ON mc.id = a.merchant_id \
             WHERE a.person_id = $1 ORDER BY m.joined_at, m.campaign_id",
        )
        .bind(person_id)
        .fetch_all(self.reader())
        .await?)
    }

    async fn campaign_by_code(&self, tracking_code: &str) -> StoreResult<Option<Campaign>> {
        Ok(sqlx::query_as("SELECT * FROM campaigns WHERE tracking_code = $1")
            .bind(tracking_code)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn affiliate_by_email(
        &self,
        merchant_id: &str,
        email: &str,
    ) -> StoreResult<Option<(Affiliate, Option<String>)>> {
        let found: Option<Affiliate> =
            sqlx::query_as("SELECT * FROM affiliates WHERE merchant_id = $1 AND email = $2")
                .bind(merchant_id)
                .bind(email)
                .fetch_optional(self.reader())
                .await?;
        let Some(affiliate) = found else {
            return Ok(None);
        };
        let person: Option<String> = sqlx::query_scalar("SELECT person_id FROM affiliates WHERE id = $1")
            .bind(&affiliate.id)
            .fetch_one(self.reader())
            .await?;
        Ok(Some((affiliate, person)))
    }

    async fn enroll(&self, e: &Enrollment) -> StoreResult<EnrollOutcome> {
        let m = &e.membership;
        let now = m.updated_at;
        let mut tx = self.begin_write().await?;
        if let Some(invitation) = &e.invitation_id {
            let taken = sqlx::query(
                "UPDATE affiliate_invitations SET status = 'accepted', accepted_at = $2 \
                 WHERE id = $1 AND status = 'pending' AND expires_at > $2 AND is_test = FALSE",
            )
            .bind(invitation)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if taken.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(EnrollOutcome::InvitationGone);
            }
        }
        if e.new_person {
            let p = &e.person;
            let inserted = sqlx::query(
                "INSERT INTO affiliate_people (id, email, name, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING",
            )
            .bind(&p.id)
            .bind(&p.email)
            .bind(&p.name)
            .bind(&p.password_hash)
            .bind(p.created_at)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(EnrollOutcome::EmailTaken);
            }
        }
        match &e.affiliate {
            EnrolledAffiliate::New(a) => {
                // A row made meanwhile for the same email is a unique violation: `Conflict`.
                sqlx::query(
                    "INSERT INTO affiliates (id, merchant_id, email, name, created_via, created_at, person_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&a.id)
                .bind(&a.merchant_id)
                .bind(&a.email)
                .bind(&a.name)
                .bind(&a.created_via)
                .bind(a.created_at)
                .bind(&e.person.id)
                .execute(&mut *tx)
                .await?;
            }
            EnrolledAffiliate::Existing { id, link: true } => {
                sqlx::query(
                    "UPDATE affiliates SET person_id = $3 WHERE merchant_id = $1 AND id = $2 \
                     AND (person_id IS NULL OR person_id = $3)",
                )
                .bind(&m.merchant_id)
                .bind(id)
                .bind(&e.person.id)
                .execute(&mut *tx)
                .await?;
            }
            EnrolledAffiliate::Existing { link: false, .. } => {}
        }
        let event = if e.approve_pending {
            let moved = sqlx::query(
                "UPDATE memberships SET status = $4, updated_at = $5 \
                 WHERE merchant_id = $1 AND campaign_id = $2 AND affiliate_id = $3 AND status = 'pending'",
            )
            .bind(&m.merchant_id)
            .bind(&m.campaign_id)
            .bind(&m.affiliate_id)
            .bind(m.status)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(EnrollOutcome::AlreadyMember);
            }
            refline_domain::membership_status_event(MembershipStatus::Approved)
        } else {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM memberships WHERE merchant_id = $1 AND campaign_id = $2 AND affiliate_id = $3",
            )
            .bind(&m.merchant_id)
            .bind(&m.campaign_id)
            .bind(&m.affiliate_id)
            .fetch_optional(&mut *tx)
            .await?;
            if exists.is_some() {
                tx.rollback().await?;
                return Ok(EnrollOutcome::AlreadyMember);
            }
            insert_membership(&mut *tx, m).await?;
            "affiliate.joined"
        };
        // The portal is a live door: joins are always announced.
        announce_membership(&mut tx, m, event, m.status.as_str(), now).await?;
        for mail in &e.mails {
            insert_mail(&mut *tx, mail).await?;
        }
        tx.commit().await?;
        Ok(EnrollOutcome::Done)
    }

    async fn insert_invitation(&self, i: &Invitation, mail: Option<&OutgoingMail>) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE affiliate_invitations SET status = 'expired' WHERE campaign_id = $1 AND email = $2 \
             AND is_test = $3 AND status = 'pending' AND expires_at <= $4",
        )
        .bind(&i.campaign_id)
        .bind(&i.email)
        .bind(i.is_test)
        .bind(i.created_at)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO affiliate_invitations (id, merchant_id, campaign_id, email, name, token_hash, status, \
                is_test, expires_at, created_at, created_by, accepted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
        )
        .bind(&i.id)
        .bind(&i.merchant_id)
        .bind(&i.campaign_id)
        .bind(&i.email)
        .bind(&i.name)
        .bind(&i.token_hash)
        .bind(&i.status)
        .bind(i.is_test)
        .bind(i.expires_at)
        .bind(i.created_at)
        .bind(&i.created_by)
        .bind(i.accepted_at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(mail) = mail {
            insert_mail(&mut *tx, mail).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn get_invitation(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Invitation>> {
        Ok(sqlx::query_as("SELECT * FROM affiliate_invitations WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        Ok(sqlx::query_as("SELECT * FROM affiliate_invitations WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn revoke_invitation(&self, merchant_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE affiliate_invitations SET status = 'revoked' \
             WHERE merchant_id = $1 AND id = $2 AND status = 'pending'",
        )
        .bind(merchant_id)
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn mails_rejected_affiliates(&self, merchant_id: &str) -> StoreResult<bool> {
        let on: Option<bool> =
            sqlx::query_scalar("SELECT mail_rejected_affiliates FROM merchants WHERE id = $1")
                .bind(merchant_id)
                .fetch_optional(self.reader())
                .await?;
        Ok(on.unwrap_or(false))
    }

    async fn set_mails_rejected_affiliates(&self, merchant_id: &str, on: bool) -> StoreResult<()> {
        sqlx::query("UPDATE merchants SET mail_rejected_affiliates = $2 WHERE id = $1")
            .bind(merchant_id)
            .bind(on)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn set_person_name(&self, person_id: &str, name: &str) -> StoreResult<()> {
        sqlx::query("UPDATE affiliate_people SET name = $2 WHERE id = $1")
            .bind(person_id)
            .bind(name)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn change_person_password(
        &self,
        person_id: &str,
        password_hash: &str,
        keep: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE affiliate_people SET password_hash = $2 WHERE id = $1")
            .bind(person_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        revoke_sessions_of(&mut *tx, SignInKind::Person, person_id, Some(keep), now).await?;
        tx.commit().await?;
        Ok(())
    }
}
