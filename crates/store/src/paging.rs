//! Page-based list requests and results.

/// Which page of a list to read. `sort` is a whitelisted column chosen by the caller through
/// the per-resource sort enums, never free text.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<S> {
    /// Rows per page (1..=100, checked by the API layer).
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
    /// Sort column.
    pub sort: S,
    /// Descending when true.
    pub descending: bool,
}

impl<S> PageRequest<S> {
    /// `ASC` or `DESC`, for building ORDER BY clauses.
    pub fn direction(&self) -> &'static str {
        if self.descending {
            "DESC"
        } else {
            "ASC"
        }
    }
}

/// One page of rows and the total count of rows matching the filters.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// All matching rows, across pages.
    pub total: i64,
}
