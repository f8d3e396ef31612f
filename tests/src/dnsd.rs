//! A small authoritative DNS server for tests: real UDP and TCP sockets on
//! 127.0.0.1, real wire format (hickory-proto), test zones built in code.
//!
//! Why not a mocked resolver: the host's resolver, cache, timeouts and error
//! mapping are what the DNS-list tests exercise, so they must talk to a real
//! server over real sockets. Zones can also be told to misbehave the way
//! broken lists do in the wild: never answer, or answer SERVFAIL.
//!
//! Every question received is counted ([`TestDns::queries`]) so a test can
//! prove that a warm cache asks the server nothing.

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// How a zone answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Authoritative answers from the zone's records; NXDOMAIN/NODATA with
    /// the SOA (its minimum is the negative TTL) otherwise.
    Answer,
    /// Reads the question and never replies (a dead list).
    Drop,
    /// Replies SERVFAIL to everything.
    ServFail,
}

#[derive(Debug, Clone)]
struct Zone {
    apex: String,
    behaviour: Behaviour,
    negative_ttl: u32,
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    ttl: u32,
    data: RData,
}

/// Zones and records, then [`ZoneSet::start`].
#[derive(Debug, Clone, Default)]
pub struct ZoneSet {
    zones: Vec<Zone>,
    entries: Vec<Entry>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl ZoneSet {
    pub fn new() -> ZoneSet {
        ZoneSet::default()
    }

    /// A zone with the given behaviour; negative answers carry an SOA whose
    /// minimum is `negative_ttl`.
    pub fn zone(mut self, apex: &str, behaviour: Behaviour, negative_ttl: u32) -> Self {
        self.zones.push(Zone {
            apex: key(apex),
            behaviour,
            negative_ttl,
        });
        self
    }

    fn add(mut self, name: &str, ttl: u32, data: RData) -> Self {
        self.entries.push(Entry {
            name: key(name),
            ttl,
            data,
        });
        self
    }

    pub fn a(self, name: &str, ip: Ipv4Addr, ttl: u32) -> Self {
        self.add(name, ttl, RData::A(A(ip)))
    }

    pub fn aaaa(self, name: &str, ip: Ipv6Addr, ttl: u32) -> Self {
        self.add(name, ttl, RData::AAAA(AAAA(ip)))
    }

    pub fn txt(self, name: &str, text: &str, ttl: u32) -> Self {
        self.add(name, ttl, RData::TXT(TXT::new(vec![text.to_string()])))
    }

    /// A record of any other type (MX, PTR, ...).
    pub fn rdata(self, name: &str, data: RData, ttl: u32) -> Self {
        self.add(name, ttl, data)
    }

    /// Bind UDP and TCP on the same random loopback port and serve.
    pub async fn start(self) -> std::io::Result<TestDns> {
        let (udp, tcp) = bind_pair().await?;
        let addr = udp.local_addr()?;
        let queries = Arc::new(AtomicU64::new(0));
        let zones = Arc::new(self);
        let udp = Arc::new(udp);
        let mut tasks = Vec::new();
        {
            let (zones, queries, udp) = (zones.clone(), queries.clone(), udp.clone());
            tasks.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    let Ok((n, peer)) = udp.recv_from(&mut buf).await else {
                        continue;
                    };
                    queries.fetch_add(1, Ordering::Relaxed);
                    if let Some(reply) = zones.reply(&buf[..n]) {
                        let _ = udp.send_to(&reply, peer).await;
                    }
                }
            }));
        }
        {
            let (zones, queries) = (zones.clone(), queries.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let Ok((mut stream, _)) = tcp.accept().await else {
                        continue;
                    };
                    let (zones, queries) = (zones.clone(), queries.clone());
                    tokio::spawn(async move {
                        loop {
                            let Ok(len) = stream.read_u16().await else {
                                return;
                            };
                            let mut buf = vec![0u8; usize::from(len)];
                            if stream.read_exact(&mut buf).await.is_err() {
                                return;
                            }
                            queries.fetch_add(1, Ordering::Relaxed);
                            let Some(reply) = zones.reply(&buf) else {
                                continue;
                            };
                            let Ok(len) = u16::try_from(reply.len()) else {
                                return;
                            };
                            if stream.write_u16(len).await.is_err()
                                || stream.write_all(&reply).await.is_err()
                            {
                                return;
                            }
                        }
                    });
                }
            }));
        }
        Ok(TestDns {
            addr,
            queries,
            tasks,
        })
    }

    fn zone_of(&self, name: &str) -> Option<&Zone> {
        self.zones
            .iter()
            .filter(|z| name == z.apex || name.ends_with(&format!(".{}", z.apex)))
            .max_by_key(|z| z.apex.len())
    }

    /// The wire reply to one wire question; None = stay silent.
    fn reply(&self, wire: &[u8]) -> Option<Vec<u8>> {
        let req = Message::from_vec(wire).ok()?;
        if req.metadata.message_type != MessageType::Query {
            return None;
        }
        let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
        resp.metadata.recursion_desired = req.metadata.recursion_desired;
        let Some(q) = req.queries.first().cloned() else {
            resp.metadata.response_code = ResponseCode::FormErr;
            return resp.to_vec().ok();
        };
        resp.add_query(q.clone());
        let qname = key(&q.name.to_ascii());
        let Some(zone) = self.zone_of(&qname) else {
            resp.metadata.response_code = ResponseCode::Refused;
            return resp.to_vec().ok();
        };
        match zone.behaviour {
            Behaviour::Drop => return None,
            Behaviour::ServFail => {
                resp.metadata.response_code = ResponseCode::ServFail;
                return resp.to_vec().ok();
            }
            Behaviour::Answer => {}
        }
        resp.metadata.authoritative = true;
        let matching: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.name == qname && e.data.record_type() == q.query_type)
            .collect();
        if !matching.is_empty() {
            for e in matching {
                resp.add_answer(Record::from_rdata(q.name.clone(), e.ttl, e.data.clone()));
            }
            return resp.to_vec().ok();
        }
        let exists = self
            .entries
            .iter()
            .any(|e| e.name == qname || e.name.ends_with(&format!(".{qname}")))
            || qname == zone.apex;
        if !exists {
            resp.metadata.response_code = ResponseCode::NXDomain;
        }
        let apex = Name::from_ascii(format!("{}.", zone.apex)).ok()?;
        let soa = SOA::new(
            Name::from_ascii(format!("ns.{}.", zone.apex)).ok()?,
            Name::from_ascii(format!("hostmaster.{}.", zone.apex)).ok()?,
            1,
            3600,
            600,
            86400,
            zone.negative_ttl,
        );
        resp.add_authority(Record::from_rdata(apex, zone.negative_ttl, RData::SOA(soa)));
        resp.to_vec().ok()
    }
}

/// A running test server; stops when dropped.
pub struct TestDns {
    addr: SocketAddr,
    queries: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl TestDns {
    /// Where it listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Questions received so far (every transport, answered or not).
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A UDP socket and a TCP listener on one loopback port, from the same
/// allocator as the daemons' ports (see `free_port`): a port the kernel
/// chose for UDP could be one another test picked for a daemon that has not
/// bound it yet.
async fn bind_pair() -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..64 {
        let port = crate::free_port();
        let udp = match UdpSocket::bind(("127.0.0.1", port)).await {
            Ok(u) => u,
            Err(e) => {
                last = Some(e);
                continue;
            }
        };
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one attempt"))
}
