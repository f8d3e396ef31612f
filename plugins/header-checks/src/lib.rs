//! Placeholder: the header-checks plugin.
