//! Placeholder: the restrictions plugin.
