//! [`refline_store::AccountStore`]: accounts, users, brands and teams.

use async_trait::async_trait;
use refline_store::{
    Account, AccountStore, ApiKey, BrandAccess, Merchant, OneTimeToken, OutgoingMail, SignInKind, SignUp,
    StoreResult, TeamMember, TeamMemberView, User,
};
use sqlx::Executor;

use crate::{portable::mail::insert_mail, portable::session::insert_token, Db, Engine};

async fn insert_user<'e>(db: impl Executor<'e, Database = Db>, user: &User) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .execute(db)
        .await?;
    Ok(())
}

async fn insert_account<'e>(db: impl Executor<'e, Database = Db>, account: &Account) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO accounts (id, owner_user_id, created_at) VALUES ($1, $2, $3)")
        .bind(&account.id)
        .bind(&account.owner_user_id)
        .bind(account.created_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Inserts a member; `false` when the person is already on the brand's team.
async fn insert_member<'e>(db: impl Executor<'e, Database = Db>, m: &TeamMember) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO team_members (merchant_id, user_id, role, manage_payouts, manage_keys, invited_by, \
            created_at, accepted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (merchant_id, user_id) DO NOTHING",
    )
    .bind(&m.merchant_id)
    .bind(&m.user_id)
    .bind(m.role)
    .bind(m.manage_payouts)
    .bind(m.manage_keys)
    .bind(&m.invited_by)
    .bind(m.created_at)
    .bind(m.accepted_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn insert_brand(
    conn: &mut crate::portable::Conn,
    merchant: &Merchant,
    keys: &[ApiKey],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO merchants (id, name, plan, currency, created_at, account_id, website) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&merchant.id)
    .bind(&merchant.name)
    .bind(merchant.plan)
    .bind(&merchant.currency)
    .bind(merchant.created_at)
    .bind(&merchant.account_id)
    .bind(&merchant.website)
    .execute(&mut *conn)
    .await?;
    for key in keys {
        crate::portable::merchant::insert_api_key(&mut *conn, key).await?;
    }
    Ok(())
}

#[async_trait]
impl AccountStore for Engine {
    async fn sign_up(&self, signup: &SignUp) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_user(&mut *tx, &signup.user).await?;
        insert_account(&mut *tx, &signup.account).await?;
        insert_brand(&mut tx, &signup.merchant, &signup.keys).await?;
        insert_member(&mut *tx, &signup.member).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<User>> {
        Ok(sqlx::query_as("SELECT * FROM users WHERE id = $1").bind(id).fetch_optional(self.reader()).await?)
    }

    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        Ok(sqlx::query_as("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn set_user_password(&self, user_id: &str, password_hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn brands_of_user(&self, user_id: &str) -> StoreResult<Vec<BrandAccess>> {
        Ok(sqlx::query_as(
            "SELECT m.*, t.role, t.manage_payouts, t.manage_keys FROM team_members t \
             JOIN merchants m ON m.id = t.merchant_id \
             WHERE t.user_id = $1 AND t.accepted_at IS NOT NULL \
             ORDER BY m.created_at, m.id",
        )
        .bind(user_id)
        .fetch_all(self.reader())
        .await?)
    }

    async fn team_member(&self, merchant_id: &str, user_id: &str) -> StoreResult<Option<TeamMember>> {
        Ok(sqlx::query_as("SELECT * FROM team_members WHERE merchant_id = $1 AND user_id = $2")
            .bind(merchant_id)
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn team_of_brand(&self, merchant_id: &str) -> StoreResult<Vec<TeamMemberView>> {
        Ok(sqlx::query_as(
            "SELECT t.user_id, u.email, u.name, t.role, t.manage_payouts, t.manage_keys, t.created_at, \
                    t.accepted_at \
             FROM team_members t JOIN users u ON u.id = t.user_id WHERE t.merchant_id = $1 \
             ORDER BY CASE t.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, t.created_at, u.email",
        )
        .bind(merchant_id)
        .fetch_all(self.reader())
        .await?)
    }

    async fn add_team_member(
        &self,
        new_user: Option<&User>,
        member: &TeamMember,
        token: Option<&OneTimeToken>,
        mail: Option<&OutgoingMail>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        if let Some(user) = new_user {
            insert_user(&mut *tx, user).await?;
        }
        if !insert_member(&mut *tx, member).await? {
            return Ok(false);
        }
        if let Some(token) = token {
            insert_token(&mut *tx, SignInKind::User, token).await?;
        }
        if let Some(mail) = mail {
            insert_mail(&mut *tx, mail).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn update_team_member(&self, m: &TeamMember) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE team_members SET role = $3, manage_payouts = $4, manage_keys = $5 \
             WHERE merchant_id = $1 AND user_id = $2",
        )
        .bind(&m.merchant_id)
        .bind(&m.user_id)
        .bind(m.role)
        .bind(m.manage_payouts)
        .bind(m.manage_keys)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn remove_team_member(&self, merchant_id: &str, user_id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM team_members WHERE merchant_id = $1 AND user_id = $2")
            .bind(merchant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM user_tokens WHERE merchant_id = $1 AND user_id = $2 AND purpose = 'invite' \
             AND used_at IS NULL",
        )
        .bind(merchant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        // A removed person's open sessions on the brand must not keep showing it.
        sqlx::query("UPDATE user_sessions SET merchant_id = NULL WHERE merchant_id = $1 AND user_id = $2")
            .bind(merchant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_brand(
        &self,
        merchant: &Merchant,
        keys: &[ApiKey],
        owner: &TeamMember,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_brand(&mut tx, merchant, keys).await?;
        insert_member(&mut *tx, owner).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_brand_archived(&self, merchant_id: &str, archived_at: Option<i64>) -> StoreResult<()> {
        sqlx::query("UPDATE merchants SET archived_at = $2 WHERE id = $1")
            .bind(merchant_id)
            .bind(archived_at)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn update_business(
        &self,
        merchant_id: &str,
        name: &str,
        website: Option<&str>,
        currency: &str,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE merchants SET name = $2, website = $3, currency = $4 WHERE id = $1")
            .bind(merchant_id)
            .bind(name)
            .bind(website)
            .bind(currency)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn attach_user(
        &self,
        user: &User,
        account: Option<&Account>,
        member: &TeamMember,
        token: Option<&OneTimeToken>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_user(&mut *tx, user).await?;
        if let Some(account) = account {
            insert_account(&mut *tx, account).await?;
            sqlx::query("UPDATE merchants SET account_id = $2 WHERE id = $1 AND account_id IS NULL")
                .bind(&member.merchant_id)
                .bind(&account.id)
                .execute(&mut *tx)
                .await?;
        }
        insert_member(&mut *tx, member).await?;
        if let Some(token) = token {
            insert_token(&mut *tx, SignInKind::User, token).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn account_of_brand(&self, merchant_id: &str) -> StoreResult<Option<Account>> {
        Ok(sqlx::query_as(
            "SELECT a.* FROM accounts a JOIN merchants m ON m.account_id = a.id WHERE m.id = $1",
        )
        .bind(merchant_id)
        .fetch_optional(self.reader())
        .await?)
    }
}
