//! Postfix domain lists (`mydestination`, `relay_domains`, ...): names,
//! `.parent` patterns, `!negation`, and `type:table` lookups.

use crate::tables::Tables;

/// One compiled domain list.
#[derive(Debug, Clone, Default)]
pub struct DomainList {
    items: Vec<Item>,
    /// Parameter is listed in `parent_domain_matches_subdomains`.
    parent_matches: bool,
}

#[derive(Debug, Clone)]
enum Item {
    Name { name: String, negated: bool },
    Table { spec: String, negated: bool },
}

impl DomainList {
    pub fn new(items: &[String], parent_matches: bool) -> DomainList {
        let items = items
            .iter()
            .map(|raw| {
                let (negated, s) = match raw.strip_prefix('!') {
                    Some(s) => (true, s),
                    None => (false, raw.as_str()),
                };
                if s.contains(':') && !s.starts_with('[') {
                    Item::Table {
                        spec: s.to_string(),
                        negated,
                    }
                } else {
                    Item::Name {
                        name: s.trim_end_matches('.').to_ascii_lowercase(),
                        negated,
                    }
                }
            })
            .collect();
        DomainList {
            items,
            parent_matches,
        }
    }

    /// Does `domain` (lower case) match? First matching item decides.
    pub fn matches(&self, domain: &str, tables: &Tables) -> Result<bool, String> {
        for item in &self.items {
            match item {
                Item::Name { name, negated } => {
                    let hit = name == domain
                        || (name.starts_with('.') && domain.ends_with(name.as_str()))
                        || (self.parent_matches
                            && !name.starts_with('.')
                            && domain.ends_with(&format!(".{name}")));
                    if hit {
                        return Ok(!negated);
                    }
                }
                Item::Table { spec, negated } => {
                    let t = tables.open(spec).map_err(|e| e.to_string())?;
                    let mut candidates = vec![domain.to_string()];
                    let mut rest = domain;
                    while let Some((_, parent)) = rest.split_once('.') {
                        if self.parent_matches {
                            candidates.push(parent.to_string());
                        } else {
                            candidates.push(format!(".{parent}"));
                        }
                        rest = parent;
                    }
                    for c in candidates {
                        if t.get(&c).map_err(|e| e.to_string())?.is_some() {
                            return Ok(!negated);
                        }
                    }
                }
            }
        }
        Ok(false)
    }
}
