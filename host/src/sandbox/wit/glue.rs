//! The conversions and capability imports every served WIT version shares.
//!
//! The generated types of two versions are distinct Rust types with the same
//! shape (each version's bindgen makes its own), so the glue is written once
//! here as a macro and expanded inside each version's module, where the
//! paths `t::`, `p::`, `log::` ... name that version's types.

/// Expand the shared glue in a version module that has `host`, `caps`,
/// `HostState`, `t` (types), `p` (plugin exports) and the capability
/// interface modules in scope.
macro_rules! shared_glue {
    () => {
        // ---- host types -> guest types -------------------------------------------

        fn stage(s: host::Stage) -> t::Stage {
            match s {
                host::Stage::Connect => t::Stage::Connect,
                host::Stage::Helo => t::Stage::Helo,
                host::Stage::Mail => t::Stage::Mail,
                host::Stage::Rcpt => t::Stage::Rcpt,
                host::Stage::Vrfy => t::Stage::Vrfy,
                host::Stage::Etrn => t::Stage::Etrn,
                host::Stage::Data => t::Stage::Data,
                host::Stage::Headers => t::Stage::Headers,
                host::Stage::Body => t::Stage::Body,
                host::Stage::EndOfMessage => t::Stage::EndOfMessage,
            }
        }

        fn stage_from(s: t::Stage) -> host::Stage {
            match s {
                t::Stage::Connect => host::Stage::Connect,
                t::Stage::Helo => host::Stage::Helo,
                t::Stage::Mail => host::Stage::Mail,
                t::Stage::Rcpt => host::Stage::Rcpt,
                t::Stage::Vrfy => host::Stage::Vrfy,
                t::Stage::Etrn => host::Stage::Etrn,
                t::Stage::Data => host::Stage::Data,
                t::Stage::Headers => host::Stage::Headers,
                t::Stage::Body => host::Stage::Body,
                t::Stage::EndOfMessage => host::Stage::EndOfMessage,
            }
        }

        fn name_status(s: host::NameStatus) -> t::NameStatus {
            match s {
                host::NameStatus::Ok => t::NameStatus::Ok,
                host::NameStatus::NotFound => t::NameStatus::NotFound,
                host::NameStatus::TemporaryFailure => t::NameStatus::TemporaryFailure,
            }
        }

        fn tls_info(x: &host::TlsInfo) -> t::TlsInfo {
            t::TlsInfo {
                protocol: x.protocol.clone(),
                cipher: x.cipher.clone(),
                peer_subject: x.peer_subject.clone(),
                peer_verified: x.peer_verified,
            }
        }

        fn sasl_info(x: &host::SaslInfo) -> t::SaslInfo {
            t::SaslInfo {
                method: x.method.clone(),
                username: x.username.clone(),
            }
        }

        fn session(s: &host::Session) -> t::Session {
            t::Session {
                id: s.id.clone(),
                client_address: s.client_address.clone(),
                client_port: s.client_port,
                client_name: s.client_name.clone(),
                client_name_status: name_status(s.client_name_status),
                reverse_client_name: s.reverse_client_name.clone(),
                reverse_client_name_status: name_status(s.reverse_client_name_status),
                server_address: s.server_address.clone(),
                server_port: s.server_port,
                listener: s.listener.clone(),
                helo_name: s.helo_name.clone(),
                protocol: s.protocol.clone(),
                tls: s.tls.as_ref().map(tls_info),
                sasl: s.sasl.as_ref().map(sasl_info),
                improper_pipelining: s.improper_pipelining,
                attributes: s.attributes.clone(),
            }
        }

        pub fn address(a: &host::Address) -> t::Address {
            t::Address {
                address: a.address.clone(),
                params: a
                    .params
                    .iter()
                    .map(|p| t::EsmtpParam {
                        name: p.name.clone(),
                        value: p.value.clone(),
                    })
                    .collect(),
            }
        }

        fn envelope(e: &host::Envelope) -> t::Envelope {
            t::Envelope {
                sender: e.sender.as_ref().map(address),
                recipients: e.recipients.iter().map(address).collect(),
                queue_id: e.queue_id.clone(),
                size: e.size,
            }
        }

        pub fn headers(h: &[host::Header]) -> Vec<t::Header> {
            h.iter()
                .map(|h| t::Header {
                    name: h.name.clone(),
                    value: h.value.clone(),
                })
                .collect()
        }

        pub fn body_chunk(c: &host::BodyChunk) -> t::BodyChunk {
            t::BodyChunk {
                offset: c.offset,
                lines: c.lines.clone(),
                last: c.last,
            }
        }

        /// The configuration handed to `init`.
        pub fn config(
            settings: &[(String, String)],
            tables: &[(String, Option<String>)],
        ) -> p::Config {
            p::Config {
                settings: settings.to_vec(),
                tables: tables
                    .iter()
                    .map(|(name, source)| p::TableSource {
                        name: name.clone(),
                        source: source.clone(),
                    })
                    .collect(),
            }
        }

        // ---- guest types -> host types -------------------------------------------

        fn reply(r: t::Reply) -> host::Reply {
            host::Reply {
                code: r.code,
                enhanced: r.enhanced,
                text: r.text,
            }
        }

        pub fn verdict(v: t::Verdict) -> host::Verdict {
            use host::Verdict as H;
            match v {
                t::Verdict::Dunno => H::Dunno,
                t::Verdict::Ok => H::Ok,
                t::Verdict::Reject(r) => H::Reject(reply(r)),
                t::Verdict::Defer(r) => H::Defer(reply(r)),
                t::Verdict::DeferIfPermit(r) => H::DeferIfPermit(reply(r)),
                t::Verdict::DeferIfReject(r) => H::DeferIfReject(reply(r)),
                t::Verdict::Discard(x) => H::Discard(x),
                t::Verdict::Hold(x) => H::Hold(x),
                t::Verdict::Warn(x) => H::Warn(x),
                t::Verdict::Info(x) => H::Info(x),
                t::Verdict::Ignore => H::Ignore,
                t::Verdict::Pass => H::Pass,
                t::Verdict::Strip(x) => H::Strip(x),
                t::Verdict::Prepend(x) => H::Prepend(x),
                t::Verdict::Replace(x) => H::Replace(x),
                t::Verdict::Redirect(x) => H::Redirect(x),
                t::Verdict::Bcc(x) => H::Bcc(x),
                t::Verdict::Filter(x) => H::Filter(x),
            }
        }

        pub fn indexed(v: Vec<t::IndexedVerdict>) -> Vec<host::IndexedVerdict> {
            v.into_iter()
                .map(|v| host::IndexedVerdict {
                    index: v.index,
                    verdict: verdict(v.verdict),
                })
                .collect()
        }

        fn capability(c: p::Capability) -> host::Capability {
            match c {
                p::Capability::Log => host::Capability::Log,
                p::Capability::Lookup => host::Capability::Lookup,
                p::Capability::Resolve => host::Capability::Resolve,
                p::Capability::Dns => host::Capability::Dns,
                p::Capability::Kv => host::Capability::Kv,
                p::Capability::Clock => host::Capability::Clock,
            }
        }

        pub fn description(d: p::Description) -> host::Description {
            host::Description {
                name: d.name,
                version: d.version,
                stages: d.stages.into_iter().map(stage_from).collect(),
                capabilities: d.capabilities.into_iter().map(capability).collect(),
                parameters: d.parameters,
                body_limit: d.body_limit,
            }
        }

        // ---- capability imports ---------------------------------------------------

        impl t::Host for HostState {}

        impl log::Host for HostState {
            fn write(&mut self, level: log::Level, message: String) {
                let level = match level {
                    log::Level::Debug => caps::LogLevel::Debug,
                    log::Level::Info => caps::LogLevel::Info,
                    log::Level::Warning => caps::LogLevel::Warning,
                    log::Level::Error => caps::LogLevel::Error,
                };
                self.caps.log(level, &message);
            }
        }

        impl lookup::Host for HostState {
            fn find(
                &mut self,
                table: String,
                queries: Vec<lookup::Query>,
            ) -> Vec<Result<Option<lookup::Hit>, lookup::LookupError>> {
                let queries: Vec<crate::tables::Query> = queries
                    .into_iter()
                    .map(|q| match q {
                        lookup::Query::Exact(k) => crate::tables::Query::Exact(k),
                        lookup::Query::Address(k) => crate::tables::Query::Address(k),
                        lookup::Query::Domain(k) => crate::tables::Query::Domain(k),
                        lookup::Query::Client(c) => crate::tables::Query::Client {
                            name: c.name,
                            address: c.address,
                        },
                    })
                    .collect();
                let started = std::time::Instant::now();
                let out = self.caps.find(&table, &queries);
                self.call.host_wait += started.elapsed();
                out.into_iter()
                    .map(|r| match r {
                        Ok(hit) => Ok(hit.map(|h| lookup::Hit {
                            key: h.key,
                            value: h.value,
                        })),
                        Err(caps::LookupFailure::NotGranted(x)) => {
                            Err(lookup::LookupError::NotGranted(x))
                        }
                        Err(caps::LookupFailure::Unavailable(x)) => {
                            Err(lookup::LookupError::Unavailable(x))
                        }
                    })
                    .collect()
            }
        }

        impl resolve::Host for HostState {
            fn resolve(
                &mut self,
                addresses: Vec<String>,
            ) -> Vec<Result<resolve::Resolution, String>> {
                use crate::rewrite::AddressClass as C;
                self.caps
                    .resolve(&addresses)
                    .into_iter()
                    .map(|r| {
                        r.map(|r| resolve::Resolution {
                            class: match r.class {
                                C::Local => resolve::AddressClass::Local,
                                C::VirtualAlias => resolve::AddressClass::VirtualAlias,
                                C::VirtualMailbox => resolve::AddressClass::VirtualMailbox,
                                C::Relay => resolve::AddressClass::Relay,
                                C::Default => resolve::AddressClass::Default,
                            },
                            address: r.address,
                            transport: r.transport,
                            nexthop: r.nexthop,
                            routed: r.routed,
                        })
                    })
                    .collect()
            }
        }

        impl dns::Host for HostState {
            async fn query(
                &mut self,
                questions: Vec<dns::Question>,
            ) -> Vec<Result<dns::Answer, dns::DnsError>> {
                use crate::dns::{Record, RecordType as R};
                let questions: Vec<(String, R)> = questions
                    .into_iter()
                    .map(|q| {
                        let rt = match q.record_type {
                            dns::RecordType::A => R::A,
                            dns::RecordType::Aaaa => R::Aaaa,
                            dns::RecordType::Txt => R::Txt,
                            dns::RecordType::Mx => R::Mx,
                            dns::RecordType::Ptr => R::Ptr,
                            dns::RecordType::Cname => R::Cname,
                            dns::RecordType::Ns => R::Ns,
                        };
                        (q.name, rt)
                    })
                    .collect();
                let started = std::time::Instant::now();
                let caps = self.caps.clone();
                let answers = caps.dns(&questions).await;
                self.call.host_wait += started.elapsed();
                answers
                    .into_iter()
                    .map(|a| match a {
                        Ok(a) => Ok(dns::Answer {
                            ttl: u32::try_from(a.ttl.as_secs()).unwrap_or(u32::MAX),
                            records: a
                                .records
                                .into_iter()
                                .map(|r| match r {
                                    Record::A(x) => dns::ResourceRecord::A(x.to_string()),
                                    Record::Aaaa(x) => dns::ResourceRecord::Aaaa(x.to_string()),
                                    Record::Txt(x) => dns::ResourceRecord::Txt(x),
                                    Record::Mx {
                                        preference,
                                        exchange,
                                    } => dns::ResourceRecord::Mx(dns::MxRecord {
                                        preference,
                                        exchange,
                                    }),
                                    Record::Ptr(x) => dns::ResourceRecord::Ptr(x),
                                    Record::Cname(x) => dns::ResourceRecord::Cname(x),
                                    Record::Ns(x) => dns::ResourceRecord::Ns(x),
                                })
                                .collect(),
                        }),
                        Err(caps::DnsFailure::NotGranted(x)) => Err(dns::DnsError::NotGranted(x)),
                        Err(caps::DnsFailure::Dns(crate::dns::DnsError::NotFound)) => {
                            Err(dns::DnsError::NotFound)
                        }
                        Err(caps::DnsFailure::Dns(crate::dns::DnsError::Timeout)) => {
                            Err(dns::DnsError::Timeout)
                        }
                        Err(caps::DnsFailure::Dns(crate::dns::DnsError::ServerFailure(x))) => {
                            Err(dns::DnsError::ServerFailure(x))
                        }
                    })
                    .collect()
            }
        }

        impl kv::Host for HostState {
            fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, String> {
                self.caps.kv_get(&key)
            }

            fn set(
                &mut self,
                key: String,
                value: Vec<u8>,
                ttl_seconds: Option<u32>,
            ) -> Result<(), String> {
                self.caps.kv_set(&key, &value, ttl_seconds)
            }

            fn delete(&mut self, key: String) -> Result<(), String> {
                self.caps.kv_delete(&key)
            }
        }

        impl clock::Host for HostState {
            fn now(&mut self) -> clock::Datetime {
                let d = self.caps.now();
                clock::Datetime {
                    seconds: d.as_secs(),
                    nanoseconds: d.subsec_nanos(),
                }
            }
        }
    };
}

pub(crate) use shared_glue;
