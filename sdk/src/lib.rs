//! The guest SDK (placeholder).
