//! How the domain's enums are stored: as their stable text form (`Plan::as_str`), in a `TEXT`
//! column of either engine, read back through their `parse` — so rows carry typed values and an
//! unknown text in the database is a decode error, not a silent default. [`Mode`](crate::Mode)
//! is stored as the `is_test` BOOLEAN (`true` is test).
//!
//! Only with the `sqlx` feature (the storage crates turn it on); the rules themselves never see
//! a database.

/// Implements sqlx's `Type`, `Encode` and `Decode` for `$t` (which has `as_str(self) -> &str`
/// and `parse(&str) -> Option<Self>`) on every database whose `String` is text.
macro_rules! stored_as_text {
    ($($t:ty),* $(,)?) => {$(
        impl<DB: sqlx::Database> sqlx::Type<DB> for $t
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $t
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode(self.as_str().to_string(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $t
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
                <$t>::parse(&text)
                    .ok_or_else(|| format!("unknown {} {text:?} in the database", stringify!($t)).into())
            }
        }
    )*};
}

stored_as_text!(
    crate::Plan,
    crate::KeyKind,
    crate::ledger::EntryKind,
    crate::ledger::PayoutStatus,
    crate::ConversionStatus,
    crate::ConversionType,
    crate::MembershipStatus,
    crate::CampaignStatus,
    crate::CommissionType,
    crate::RecurringMode,
    crate::RecurringType,
    crate::TierBasis,
    crate::TrialMode,
    crate::Role,
);

impl<DB: sqlx::Database> sqlx::Type<DB> for crate::Mode
where
    bool: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <bool as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <bool as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for crate::Mode
where
    bool: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <bool as sqlx::Encode<'q, DB>>::encode(self.is_test(), buf)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for crate::Mode
where
    bool: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <bool as sqlx::Decode<'r, DB>>::decode(value).map(crate::Mode::from_is_test)
    }
}
