//! `/etc/hosts`, read as Go's `hosts.go` reads it: names match without
//! regard to case, the first name of a line is the canonical one, and the
//! file is read again when it changes (checked at most every 5 seconds).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The system's hosts file.
pub const SYSTEM: &str = "/etc/hosts";

/// How long a read of the file is trusted before its modification time is
/// checked again, as Go's `cacheMaxAge`.
const CACHE_MAX_AGE: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hosts {
    /// Lower-cased rooted name → (addresses in file order, canonical name).
    by_name: HashMap<String, (Vec<IpAddr>, String)>,
    /// Address → names, rooted, in file order.
    by_addr: HashMap<IpAddr, Vec<String>>,
}

fn rooted(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// An address as the hosts file may write it; IPv4-mapped IPv6 addresses
/// are taken as IPv4, as Go's `IP` compares them. A zone (`fe80::1%eth0`)
/// is dropped: gonet keeps no zones on looked-up addresses.
fn parse_addr(text: &str) -> Option<IpAddr> {
    let text = text.split('%').next()?;
    let ip: IpAddr = text.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

impl Hosts {
    pub fn parse(text: &[u8]) -> Hosts {
        let mut hosts = Hosts::default();
        for line in text.split(|&b| b == b'\n') {
            let line = match line.iter().position(|&b| b == b'#') {
                Some(i) => &line[..i],
                None => line,
            };
            // Names are ASCII; a line that is not UTF-8 cannot match one.
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            let mut fields = line.split_ascii_whitespace();
            let (Some(addr), Some(_)) = (fields.next(), fields.clone().next()) else {
                continue;
            };
            let Some(ip) = parse_addr(addr) else { continue };
            let names: Vec<&str> = fields.collect();
            let canonical = rooted(names[0]);
            for name in &names {
                let abs = rooted(name);
                let key = abs.to_ascii_lowercase();
                let entry = hosts
                    .by_name
                    .entry(key)
                    .or_insert_with(|| (Vec::new(), canonical.clone()));
                entry.0.push(ip);
                hosts.by_addr.entry(ip).or_default().push(abs);
            }
        }
        hosts
    }

    /// Go's `lookupStaticHost`: the addresses of `name` and its canonical
    /// name (rooted), or nothing.
    pub fn lookup_host(&self, name: &str) -> Option<(&[IpAddr], &str)> {
        let key = rooted(name).to_ascii_lowercase();
        self.by_name
            .get(&key)
            .map(|(ips, canonical)| (ips.as_slice(), canonical.as_str()))
    }

    /// Go's `lookupStaticAddr`: the names of `addr`, rooted.
    pub fn lookup_addr(&self, addr: &IpAddr) -> &[String] {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*addr, IpAddr::V4),
            v4 => *v4,
        };
        self.by_addr.get(&addr).map_or(&[], Vec::as_slice)
    }
}

struct Cached {
    hosts: std::sync::Arc<Hosts>,
    mtime: Option<SystemTime>,
    size: u64,
    checked: Instant,
}

static CACHE: Mutex<Option<(String, Cached)>> = Mutex::new(None);

/// The hosts file at `path`, from a cache refreshed when the file's time
/// or size changes, checked at most every 5 seconds.
pub fn read(path: &str) -> std::sync::Arc<Hosts> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    if let Some((p, c)) = cache.as_ref()
        && p == path
        && now.duration_since(c.checked) < CACHE_MAX_AGE
    {
        return c.hosts.clone();
    }
    let meta = std::fs::metadata(path).ok();
    let mtime = meta.as_ref().and_then(|m| m.modified().ok());
    let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
    if let Some((p, c)) = cache.as_mut()
        && p == path
        && c.mtime == mtime
        && c.size == size
        && meta.is_some()
    {
        c.checked = now;
        return c.hosts.clone();
    }
    let hosts = std::sync::Arc::new(
        std::fs::read(path).map_or_else(|_| Hosts::default(), |t| Hosts::parse(&t)),
    );
    *cache = Some((
        path.to_owned(),
        Cached {
            hosts: hosts.clone(),
            mtime,
            size,
            checked: now,
        },
    ));
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lines_read_as_go() {
        let h = Hosts::parse(
            b"# comment\n127.0.0.1 localhost\n::1 localhost ip6-localhost\n\
              10.0.0.1  Alpha.test alpha   # trailing\n10.0.0.2 alpha.test.\n\
              ::ffff:10.0.0.3 mapped.test\nfe80::1%lo zoned.test\nbogus line\n1.2.3.4\n\xff\xfe 5.6.7.8\n",
        );
        let (ips, canonical) = h.lookup_host("ALPHA.test").unwrap();
        assert_eq!(
            ips,
            [
                "10.0.0.1".parse::<IpAddr>().unwrap(),
                "10.0.0.2".parse().unwrap()
            ]
        );
        assert_eq!(canonical, "Alpha.test.");
        let (ips, _) = h.lookup_host("localhost.").unwrap();
        assert_eq!(ips.len(), 2);
        assert_eq!(
            h.lookup_host("mapped.test").unwrap().0,
            ["10.0.0.3".parse::<IpAddr>().unwrap()]
        );
        assert!(h.lookup_host("zoned.test").is_some());
        assert!(h.lookup_host("bogus").is_none());
        assert_eq!(
            h.lookup_addr(&"10.0.0.1".parse().unwrap()),
            ["Alpha.test.", "alpha."]
        );
        assert_eq!(
            h.lookup_addr(&"::ffff:10.0.0.1".parse().unwrap()),
            ["Alpha.test.", "alpha."]
        );
        assert!(h.lookup_addr(&"10.9.9.9".parse().unwrap()).is_empty());
    }
}
