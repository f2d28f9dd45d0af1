//! Statements of one transaction whose results nobody reads, sent to the database together
//! where the engine allows it.
//!
//! On SQLite every statement is a round trip between the task and the connection's thread, each
//! a wake-up on both sides behind whatever else the runtime runs; a batch of sales paid about 14
//! of them, and such hand-overs are about a third of the writer thread's time (issue 18,
//! BENCHMARKS "SQLite without its global mutexes…"; the five this takes off a batch moved sales/s
//! by nothing measurable on their own). A script there is one text of `;`-separated statements with
//! `?` parameters, which sqlx runs back to back on the connection's thread, binding each
//! statement's parameters after the previous one's: one round trip. PostgreSQL's extended
//! protocol takes one statement per message, so there a script runs its statements one by one,
//! in order, exactly as separate calls would.
//!
//! A failing statement fails the script at that statement (the ones after it do not run); the
//! caller's transaction then rolls back, as when each was its own call.

use sqlx::QueryBuilder;

use super::Conn;
use crate::Db;

/// Statements to run, in order, inside the caller's open transaction.
pub(super) struct Script<'q> {
    /// SQLite: one builder holding every statement. PostgreSQL: one builder per statement.
    statements: Vec<QueryBuilder<'q, Db>>,
}

impl<'q> Script<'q> {
    pub(super) fn new() -> Script<'q> {
        Script { statements: Vec::new() }
    }

    /// Starts a statement with `sql` and returns the builder to finish it (push values and binds
    /// with `push`, `push_bind`, `push_values`; never `$n` in the text, whose numbers would count
    /// across the whole script on SQLite).
    pub(super) fn statement(&mut self, sql: &str) -> &mut QueryBuilder<'q, Db> {
        match self.statements.last_mut() {
            Some(one) if script_in_one_command!() => {
                one.push("; ").push(sql);
            }
            _ => self.statements.push(QueryBuilder::new(sql)),
        }
        let last = self.statements.len() - 1;
        &mut self.statements[last]
    }

    /// Runs the statements on `conn` (inside its open transaction).
    pub(super) async fn run(self, conn: &mut Conn) -> Result<(), sqlx::Error> {
        for mut statement in self.statements {
            statement.build().persistent(keep_batch_statements!()).execute(&mut *conn).await?;
        }
        Ok(())
    }
}
