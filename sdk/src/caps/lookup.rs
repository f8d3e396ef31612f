//! Capability `lookup`: the Postfix lookup tables configured for the plugin.
//! One call runs several queries against one table; the host expands each
//! query into the keys access(5) tries and answers the first hit.

pub use crate::bindings::mta::filter::lookup::{ClientKey, Hit, LookupError, Query};

use super::backend;

/// Run `queries` against `table` (named as in main.cf, e.g.
/// `hash:/etc/postfix/access`); one result per query, in order.
pub fn find(table: &str, queries: &[Query]) -> Vec<Result<Option<Hit>, LookupError>> {
    backend::lookup::find(table, queries)
}

/// One query against one table: the common case of [`find`].
pub fn find_one(table: &str, query: Query) -> Result<Option<Hit>, LookupError> {
    find(table, std::slice::from_ref(&query))
        .into_iter()
        .next()
        .unwrap_or_else(|| {
            Err(LookupError::Unavailable(
                "the host answered no result".into(),
            ))
        })
}

impl Query {
    /// A client query for check_client_access-style lookups.
    pub fn client(name: impl Into<String>, address: impl Into<String>) -> Query {
        Query::Client(ClientKey {
            name: name.into(),
            address: address.into(),
        })
    }
}
