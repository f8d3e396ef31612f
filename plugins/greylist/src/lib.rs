//! Placeholder: the greylist plugin.
