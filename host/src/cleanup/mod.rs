//! cleanup: where a message is shaped once on its way into the queue: header
//! and body check actions applied, missing headers added, addresses rewritten.
