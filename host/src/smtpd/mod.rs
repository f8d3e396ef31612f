//! smtpd: the ESMTP server. One tokio task per session; every decision about
//! the client, HELO, sender, recipients and content is asked of the stage
//! runner (plugins in the sandbox).
