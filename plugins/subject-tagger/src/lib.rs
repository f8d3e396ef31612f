//! Placeholder: the subject-tagger plugin.
