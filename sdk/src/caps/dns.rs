//! Capability `dns`: DNS through the host's resolver, cache and timeouts,
//! limited to the zones granted to the plugin. The questions of one call run
//! concurrently, so ask everything a hook needs at once.

pub use crate::bindings::mta::filter::dns::{
    Answer, DnsError, MxRecord, Question, RecordType, ResourceRecord,
};

use super::backend;

/// Ask several questions; one result per question, in order.
pub fn query(questions: &[Question]) -> Vec<Result<Answer, DnsError>> {
    backend::dns::query(questions)
}

impl Question {
    /// A question for `name` of type `record_type`.
    pub fn new(name: impl Into<String>, record_type: RecordType) -> Question {
        Question {
            name: name.into(),
            record_type,
        }
    }
}
