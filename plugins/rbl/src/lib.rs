//! Placeholder: the rbl plugin.
