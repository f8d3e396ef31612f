//! "Does this domain exist for mail?" through the host's DNS capability: MX,
//! A and AAAA asked in one batch.

use crate::host::{DnsError, Host, Level, Question, Record, RecordType};

/// What the DNS says about a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainStatus {
    /// It has an MX or an address record.
    Found,
    /// Its only MX is the null MX (`.`, RFC 7505): it accepts no mail.
    NullMx,
    /// NXDOMAIN, or no MX and no address records.
    NotFound,
    /// The DNS did not answer in time (or is not granted to the plugin).
    TempFail,
}

/// Ask MX, A and AAAA at once and combine the answers as Postfix does.
pub fn domain_status<H: Host>(host: &mut H, domain: &str) -> DomainStatus {
    let name = domain.trim_end_matches('.').to_string();
    let questions = [RecordType::Mx, RecordType::A, RecordType::Aaaa].map(|record_type| Question {
        name: name.clone(),
        record_type,
    });
    let answers = host.dns(&questions);
    let mut temp = false;
    let mut found = false;
    for (i, answer) in answers.iter().enumerate() {
        match answer {
            Ok(records) if i == 0 => {
                let mx: Vec<&String> = records
                    .iter()
                    .filter_map(|r| match r {
                        Record::Mx(exchange) => Some(exchange),
                        _ => None,
                    })
                    .collect();
                if mx.len() == 1 && matches!(mx[0].as_str(), "." | "") {
                    return DomainStatus::NullMx;
                }
                found |= !mx.is_empty();
            }
            Ok(records) => found |= records.iter().any(|r| matches!(r, Record::Address(_))),
            Err(DnsError::NotFound) => {}
            Err(DnsError::Timeout) | Err(DnsError::ServerFailure(_)) => temp = true,
            Err(DnsError::NotGranted(why)) => {
                host.log(
                    Level::Error,
                    &format!("dns lookup of {name} not granted: {why}"),
                );
                temp = true;
            }
        }
    }
    if answers.len() < questions.len() {
        temp = true;
    }
    if found {
        DomainStatus::Found
    } else if temp {
        DomainStatus::TempFail
    } else {
        DomainStatus::NotFound
    }
}
