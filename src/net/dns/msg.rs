//! DNS messages on the wire, through the `domain` crate (NLnet Labs): a
//! query to send, and a reply read into plain owned values. A reply is
//! untrusted input; `domain` parses it lazily, without allocating from the
//! counts in its header, follows compression pointers only backwards, and
//! bounds names at 255 bytes, so a parse takes time and memory in
//! proportion to the reply's length at most.

use domain::base::iana::{Class, Rtype};
use domain::base::name::{Name, ParsedName, ToName};
use domain::base::{Message, MessageBuilder, ParsedRecord};
use domain::rdata::{A, Aaaa, Cname, Mx, Ns, Ptr, Srv, Txt};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The payload size announced with EDNS0 (RFC 6891), the 2020 DNS flag
/// day's value, as Go sends.
pub const EDNS_PAYLOAD: u16 = 1232;

pub const TYPE_A: u16 = 1;
pub const TYPE_NS: u16 = 2;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_MX: u16 = 15;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;

pub const RCODE_SUCCESS: u16 = 0;
pub const RCODE_SERVFAIL: u16 = 2;
pub const RCODE_NXDOMAIN: u16 = 3;

/// The question of a query: a rooted name and a type, class IN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub qtype: u16,
}

/// Builds a query for `q` with a random `id`, recursion desired, an EDNS0
/// record announcing `EDNS_PAYLOAD`, and the AD bit when `ad`. `None` when
/// the name cannot be put on the wire.
pub fn build_query(id: u16, q: &Question, ad: bool) -> Option<Vec<u8>> {
    let name: Name<Vec<u8>> = Name::from_str(&q.name).ok()?;
    let mut b = MessageBuilder::new_vec();
    let header = b.header_mut();
    header.set_id(id);
    header.set_rd(true);
    header.set_ad(ad);
    let mut question = b.question();
    question
        .push((&name, Rtype::from_int(q.qtype), Class::IN))
        .ok()?;
    let mut additional = question.additional();
    additional
        .opt(|opt| {
            opt.set_udp_payload_size(EDNS_PAYLOAD);
            Ok(())
        })
        .ok()?;
    Some(additional.finish())
}

/// A record's data, for the types lookups use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// CNAME, NS and PTR: a rooted name.
    Name(String),
    Mx {
        pref: u16,
        host: String,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    /// The character strings of a TXT record, as bytes.
    Txt(Vec<Vec<u8>>),
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The owner, rooted.
    pub name: String,
    pub rtype: u16,
    pub data: RData,
}

/// What a client needs of a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub id: u16,
    pub response: bool,
    pub truncated: bool,
    pub authoritative: bool,
    pub recursion_available: bool,
    /// With the extended bits of an OPT record, when there is one.
    pub rcode: u16,
    pub question: Question,
    /// Class of the question.
    pub qclass: u16,
    /// The answer section; `Err` when a record in it is malformed.
    pub answers: Result<Vec<Record>, Malformed>,
    /// Whether the additional section has any record (Go's `hasAdd`).
    pub has_additional: bool,
}

/// A reply, or part of one, that does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// A name with its trailing dot, as Go prints names from DNS.
fn rooted<N: ToName + ?Sized>(name: &N) -> String {
    name.fmt_with_dot().to_string()
}

/// Reads a reply. `Err` when even its header or question does not parse:
/// such a datagram is dropped and the wait goes on. A malformed answer
/// section is reported in `Reply::answers`.
pub fn parse_reply(bytes: &[u8]) -> Result<Reply, Malformed> {
    let msg = Message::from_octets(bytes).map_err(|_| Malformed)?;
    let header = msg.header();
    let q = msg.first_question().ok_or(Malformed)?;
    let question = Question {
        name: rooted(q.qname()),
        qtype: q.qtype().to_int(),
    };
    let qclass = q.qclass().to_int();
    let answers = parse_answers(&msg);
    let counts = msg.header_counts();
    // The extended rcode lives in the OPT record, when there is one.
    let rcode = match msg.opt() {
        Some(opt) => opt.rcode(header).to_int(),
        None => u16::from(header.rcode().to_int()),
    };
    Ok(Reply {
        id: header.id(),
        response: header.qr(),
        truncated: header.tc(),
        authoritative: header.aa(),
        recursion_available: header.ra(),
        rcode,
        question,
        qclass,
        answers,
        has_additional: counts.arcount() > 0,
    })
}

fn parse_answers(msg: &Message<&[u8]>) -> Result<Vec<Record>, Malformed> {
    let section = msg.answer().map_err(|_| Malformed)?;
    let mut records = Vec::new();
    for rr in section {
        let rr = rr.map_err(|_| Malformed)?;
        records.push(to_record(&rr)?);
    }
    Ok(records)
}

fn to_record(rr: &ParsedRecord<'_, &[u8]>) -> Result<Record, Malformed> {
    let rtype = rr.rtype().to_int();
    let name = rooted(&rr.owner());
    // Each arm parses the record data as its type; a record of the type
    // that does not parse makes the section malformed, as in Go.
    macro_rules! data {
        ($t:ty) => {
            rr.to_record::<$t>()
                .map_err(|_| Malformed)?
                .ok_or(Malformed)?
                .into_data()
        };
    }
    let data = match rtype {
        TYPE_A => RData::A(data!(A).addr()),
        TYPE_AAAA => RData::Aaaa(data!(Aaaa).addr()),
        TYPE_CNAME => RData::Name(rooted(data!(Cname<ParsedName<&[u8]>>).cname())),
        TYPE_NS => RData::Name(rooted(data!(Ns<ParsedName<&[u8]>>).nsdname())),
        TYPE_PTR => RData::Name(rooted(data!(Ptr<ParsedName<&[u8]>>).ptrdname())),
        TYPE_MX => {
            let mx = data!(Mx<ParsedName<&[u8]>>);
            RData::Mx {
                pref: mx.preference(),
                host: rooted(mx.exchange()),
            }
        }
        TYPE_SRV => {
            let srv = data!(Srv<ParsedName<&[u8]>>);
            RData::Srv {
                priority: srv.priority(),
                weight: srv.weight(),
                port: srv.port(),
                target: rooted(srv.target()),
            }
        }
        TYPE_TXT => {
            let txt = data!(Txt<&[u8]>);
            RData::Txt(txt.iter().map(<[u8]>::to_vec).collect())
        }
        _ => RData::Other,
    };
    Ok(Record { name, rtype, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_carries_the_question_and_edns0() {
        let q = Question {
            name: "www.example.test.".into(),
            qtype: TYPE_AAAA,
        };
        let wire = build_query(0x1234, &q, false).unwrap();
        assert_eq!(&wire[..2], &[0x12, 0x34]);
        // RD set, one question, no answers, one additional (the OPT).
        assert_eq!(wire[2] & 0x01, 0x01);
        assert_eq!(&wire[4..12], &[0, 1, 0, 0, 0, 0, 0, 1]);
        let msg = Message::from_octets(wire.as_slice()).unwrap();
        let opt = msg.opt().unwrap();
        assert_eq!(opt.udp_payload_size(), EDNS_PAYLOAD);
        // A query parses as a reply would (the parser does not care).
        let parsed = parse_reply(&wire).unwrap();
        assert_eq!(parsed.question, q);
        assert!(!parsed.response);
        assert!(
            build_query(
                1,
                &Question {
                    name: "a..b".into(),
                    qtype: 1
                },
                false
            )
            .is_none()
        );
    }

    /// A reply by hand: header, question, then the given answer records
    /// (already encoded).
    fn reply(flags: u16, qname: &[u8], qtype: u16, answers: &[&[u8]], ancount: u16) -> Vec<u8> {
        let mut m = vec![0xab, 0xcd];
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m.extend_from_slice(&ancount.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(qname);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        for a in answers {
            m.extend_from_slice(a);
        }
        m
    }

    #[test]
    fn replies_read_with_their_records() {
        let qname = b"\x01x\x04test\x00";
        // Owner: pointer to the question's name at offset 12.
        let a = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7];
        let txt = [
            0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 7, 2, b'h', b'i', 3, 0xff, b'\n', b'x',
        ];
        let mx = [0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 0xc0, 12];
        let wire = reply(0x8180, qname, TYPE_A, &[&a, &txt, &mx], 3);
        let r = parse_reply(&wire).unwrap();
        assert!(r.response && r.recursion_available && !r.truncated);
        assert_eq!(r.id, 0xabcd);
        assert_eq!(r.rcode, RCODE_SUCCESS);
        assert_eq!(r.question.name, "x.test.");
        let answers = r.answers.unwrap();
        assert_eq!(answers[0].data, RData::A(Ipv4Addr::new(10, 0, 0, 7)));
        assert_eq!(answers[0].name, "x.test.");
        assert_eq!(
            answers[1].data,
            RData::Txt(vec![b"hi".to_vec(), vec![0xff, b'\n', b'x']])
        );
        assert_eq!(
            answers[2].data,
            RData::Mx {
                pref: 10,
                host: "x.test.".into()
            }
        );
        // NXDOMAIN.
        let r = parse_reply(&reply(0x8183, qname, TYPE_A, &[], 0)).unwrap();
        assert_eq!(r.rcode, RCODE_NXDOMAIN);
    }

    #[test]
    fn broken_replies_are_errors_not_panics() {
        let qname = b"\x01x\x04test\x00";
        // A pointer to itself as the question's name.
        let mut wire = reply(0x8180, b"\xc0\x0c", TYPE_A, &[], 0);
        assert!(parse_reply(&wire).is_err());
        // Too short for a header.
        assert!(parse_reply(&wire[..5]).is_err());
        // An answer count past the end.
        wire = reply(0x8180, qname, TYPE_A, &[], 0xffff);
        assert_eq!(parse_reply(&wire).unwrap().answers, Err(Malformed));
        // An A record of the wrong length.
        let bad_a = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 10, 0, 0];
        wire = reply(0x8180, qname, TYPE_A, &[&bad_a], 1);
        assert_eq!(parse_reply(&wire).unwrap().answers, Err(Malformed));
        // Record data length past the end.
        let long = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0xff, 0xff, 10];
        wire = reply(0x8180, qname, TYPE_A, &[&long], 1);
        assert_eq!(parse_reply(&wire).unwrap().answers, Err(Malformed));
    }

    /// A small xorshift generator: the same sequence on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Replies are untrusted input: a million random and mutated ones
    /// (compression pointer loops and forward pointers, lengths and counts
    /// past the end, truncations, random bytes) parse or fail, never panic,
    /// and each parse is bounded: its records are at most what its bytes
    /// can hold, and none takes long.
    #[test]
    fn a_million_random_and_mutated_replies_never_panic() {
        let qname = b"\x03www\x05gonet\x04test\x00";
        let a = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7];
        let aaaa = [
            0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 1,
        ];
        let cname = [
            0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 5, 2, b'x', b'y', 0xc0, 12,
        ];
        let txt = [
            0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 7, 2, b'h', b'i', 3, 0xff, b'\n', b'x',
        ];
        let mx = [0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 0xc0, 12];
        let srv = [
            0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 2, 0, 80, 0xc0, 12,
        ];
        let opt = [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0];
        let parts: [&[u8]; 6] = [&a, &aaaa, &cname, &txt, &mx, &srv];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut parsed = 0u32;
        let mut slowest = std::time::Duration::ZERO;
        for round in 0..1_000_000u32 {
            let mut wire = if round % 8 == 0 {
                // Random bytes.
                (0..rng.below(600)).map(|_| rng.next() as u8).collect()
            } else {
                let n = rng.below(8);
                let records: Vec<&[u8]> = (0..n).map(|_| parts[rng.below(parts.len())]).collect();
                let mut w = reply(0x8180, qname, TYPE_A, &records, n as u16);
                if rng.below(3) == 0 {
                    w[11] = 1;
                    w.extend_from_slice(&opt);
                }
                w
            };
            // Mutations, a few at a time.
            for _ in 0..rng.below(4) {
                if wire.is_empty() {
                    break;
                }
                let at = rng.below(wire.len());
                match rng.below(8) {
                    0 => wire[at] = rng.next() as u8,
                    1 => wire.truncate(at),
                    // A compression pointer to itself, or forward.
                    2 if at + 1 < wire.len() => {
                        wire[at] = 0xc0 | (at >> 8) as u8 & 0x3f;
                        wire[at + 1] = at as u8;
                    }
                    3 if at + 1 < wire.len() => {
                        wire[at] = 0xc0;
                        wire[at + 1] = rng.next() as u8;
                    }
                    // Huge counts.
                    4 if wire.len() >= 12 => {
                        let field = 4 + 2 * rng.below(4);
                        wire[field] = 0xff;
                        wire[field + 1] = 0xff;
                    }
                    // A record data length past the end.
                    5 if at + 1 < wire.len() => {
                        wire[at] = 0xff;
                        wire[at + 1] = 0xff;
                    }
                    6 => wire.extend((0..rng.below(32)).map(|_| rng.next() as u8)),
                    _ => wire[at] ^= 1 << rng.below(8),
                }
            }
            let start = std::time::Instant::now();
            let result = parse_reply(&wire);
            slowest = slowest.max(start.elapsed());
            if let Ok(r) = result {
                parsed += 1;
                if let Ok(answers) = &r.answers {
                    // A record takes at least 11 bytes on the wire.
                    assert!(answers.len() <= wire.len() / 11, "{wire:?}");
                }
            }
        }
        // The seeds are valid replies: most mutations leave one that parses.
        assert!(parsed > 300_000, "only {parsed} parsed");
        assert!(
            slowest < std::time::Duration::from_millis(50),
            "the slowest parse took {slowest:?}"
        );
    }
}
