//! Delivery agents: smtp (MX, STARTTLS), local (Maildir, mbox, aliases) and
//! bounce (RFC 3464 DSNs).
