//! Old restriction names for `mta check`: the Postfix 1.x/2.x names the
//! howtos still use work (the restrictions plugin maps them at init and logs
//! it), but `mta check` does not load plugins, so it says so here — before
//! the daemon runs, naming the main.cf line.

use super::expand::split_list;
use super::Config;

/// Old name and what the restrictions plugin uses instead: the plugin's own
/// table, so `mta check` and the daemon's log say the same.
pub use restrictions::restriction::OLD_NAMES;

/// The lists restrictions are read from: the stage lists plus every
/// restriction class.
fn lists(c: &Config) -> Vec<String> {
    let mut out: Vec<String> = [
        "smtpd_client_restrictions",
        "smtpd_helo_restrictions",
        "smtpd_sender_restrictions",
        "smtpd_relay_restrictions",
        "smtpd_recipient_restrictions",
        "smtpd_data_restrictions",
        "smtpd_end_of_data_restrictions",
        "smtpd_etrn_restrictions",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.extend(split_list(&c.get("smtpd_restriction_classes")));
    out
}

/// One warning per old name per list, in Postfix's words plus the origin.
pub fn warnings(c: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for list in lists(c) {
        for item in c.get_list(&list) {
            if let Some((old, modern)) = OLD_NAMES.iter().find(|(o, _)| *o == item) {
                let at = c
                    .origins
                    .get(&list)
                    .cloned()
                    .unwrap_or_else(|| "default".to_string());
                out.push(format!(
                    "{list} ({at}): restriction \"{old}\" is obsolete: using {modern} instead"
                ));
            }
        }
    }
    out
}
