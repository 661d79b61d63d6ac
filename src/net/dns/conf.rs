//! The resolver's configuration, read as Go reads it: `/etc/resolv.conf`
//! (Go's `dnsconfig_unix.go`), `/etc/nsswitch.conf` (`nss.go`), and the
//! decision between gonet's own resolver and the system's (`conf.go`).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

/// Name servers asked when resolv.conf names none, as Go's `defaultNS`.
pub const DEFAULT_SERVERS: [&str; 2] = ["127.0.0.1:53", "[::1]:53"];

/// Parsed `/etc/resolv.conf`.
#[derive(Clone, Debug, PartialEq)]
pub struct DnsConfig {
    /// `host:port` of each name server, at most three.
    pub servers: Vec<String>,
    /// Rooted suffixes (`example.com.`) tried by `name_list`.
    pub search: Vec<String>,
    pub ndots: usize,
    /// Time for one exchange with one server.
    pub timeout: Duration,
    /// Rounds over the servers.
    pub attempts: usize,
    pub rotate: bool,
    /// `single-request`, `single-request-reopen`: A and AAAA one after the other.
    pub single_request: bool,
    /// `use-vc`: TCP only.
    pub use_tcp: bool,
    /// `trust-ad`: set the AD bit in queries.
    pub trust_ad: bool,
    /// Anything this parser does not know: Go hands such systems to libc.
    pub unknown_opt: bool,
    /// The file could not be read (not found is the usual case).
    pub missing: bool,
    pub mtime: Option<SystemTime>,
}

impl Default for DnsConfig {
    fn default() -> DnsConfig {
        DnsConfig {
            servers: Vec::new(),
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
            rotate: false,
            single_request: false,
            use_tcp: false,
            trust_ad: false,
            unknown_opt: false,
            missing: false,
            mtime: None,
        }
    }
}

fn ensure_rooted(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// Go's `dtoi` on the text after an option's colon: leading decimal digits,
/// saturating; no digits reads as 0.
fn option_number(s: &str) -> i64 {
    let mut n: i64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        n = (n * 10 + i64::from(b - b'0')).min(1 << 24);
    }
    n
}

/// A name server's address with the DNS port, as Go joins it.
fn server_address(text: &str) -> Option<String> {
    let ip: IpAddr = text.parse().ok()?;
    Some(match ip {
        IpAddr::V4(v4) => format!("{v4}:53"),
        IpAddr::V6(v6) => format!("[{v6}]:53"),
    })
}

/// The search list Go uses when resolv.conf gives none: the domain of the
/// host's name.
pub fn default_search(hostname: &str) -> Vec<String> {
    match hostname.find('.') {
        Some(i) if i < hostname.len() - 1 => vec![ensure_rooted(&hostname[i + 1..])],
        _ => Vec::new(),
    }
}

impl DnsConfig {
    /// Parses the text of a resolv.conf; `hostname` gives the default search
    /// domain.
    pub fn parse(text: &str, hostname: &str) -> DnsConfig {
        let mut conf = DnsConfig::default();
        for line in text.lines() {
            if line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            let Some(&keyword) = f.first() else { continue };
            match keyword {
                "nameserver" => {
                    if f.len() > 1 && conf.servers.len() < 3 {
                        // Only addresses: a name would need DNS to find DNS.
                        if let Some(server) = server_address(f[1]) {
                            conf.servers.push(server);
                        }
                    }
                }
                "domain" => {
                    if f.len() > 1 {
                        conf.search = vec![ensure_rooted(f[1])];
                    }
                }
                "search" => {
                    conf.search = f[1..]
                        .iter()
                        .filter(|s| **s != ".")
                        .map(|s| ensure_rooted(s))
                        .collect();
                }
                "options" => {
                    for s in &f[1..] {
                        if let Some(n) = s.strip_prefix("ndots:") {
                            conf.ndots = option_number(n).clamp(0, 15) as usize;
                        } else if let Some(n) = s.strip_prefix("timeout:") {
                            conf.timeout = Duration::from_secs(option_number(n).max(1) as u64);
                        } else if let Some(n) = s.strip_prefix("attempts:") {
                            conf.attempts = option_number(n).max(1) as usize;
                        } else {
                            match *s {
                                "rotate" => conf.rotate = true,
                                "single-request" | "single-request-reopen" => {
                                    conf.single_request = true
                                }
                                "use-vc" | "usevc" | "tcp" => conf.use_tcp = true,
                                "trust-ad" => conf.trust_ad = true,
                                // Always on here: every query carries EDNS0.
                                "edns0" => {}
                                _ => conf.unknown_opt = true,
                            }
                        }
                    }
                }
                // OpenBSD's keyword; meaningless on Linux, harmless.
                "lookup" => {}
                _ => conf.unknown_opt = true,
            }
        }
        conf.fill_defaults(hostname);
        conf
    }

    fn fill_defaults(&mut self, hostname: &str) {
        if self.servers.is_empty() {
            self.servers = DEFAULT_SERVERS.iter().map(|s| (*s).to_owned()).collect();
        }
        if self.search.is_empty() {
            self.search = default_search(hostname);
        }
    }

    /// The configuration of a system without resolv.conf.
    pub fn missing(hostname: &str) -> DnsConfig {
        let mut conf = DnsConfig {
            missing: true,
            ..DnsConfig::default()
        };
        conf.fill_defaults(hostname);
        conf
    }

    /// Reads `path`; a missing or unreadable file gives Go's defaults.
    pub fn read(path: &str) -> DnsConfig {
        let hostname = hostname();
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        match std::fs::read(path) {
            Ok(bytes) => {
                let mut conf = DnsConfig::parse(&String::from_utf8_lossy(&bytes), &hostname);
                conf.mtime = mtime;
                conf
            }
            Err(_) => DnsConfig::missing(&hostname),
        }
    }

    /// Go's `nameList`: the fully qualified names to try for `name`, in
    /// order, under the search list and `ndots`.
    pub fn name_list(&self, name: &str) -> Vec<String> {
        let rooted = name.ends_with('.');
        if name.len() > 254 || (name.len() == 254 && !rooted) {
            return Vec::new();
        }
        if rooted {
            if avoid_dns(name) {
                return Vec::new();
            }
            return vec![name.to_owned()];
        }
        let has_ndots = name.bytes().filter(|&b| b == b'.').count() >= self.ndots;
        let name = format!("{name}.");
        let mut names = Vec::with_capacity(1 + self.search.len());
        if has_ndots && !avoid_dns(&name) {
            names.push(name.clone());
        }
        for suffix in &self.search {
            let fqdn = format!("{name}{suffix}");
            if !avoid_dns(&fqdn) && fqdn.len() <= 254 {
                names.push(fqdn);
            }
        }
        if !has_ndots && !avoid_dns(&name) {
            names.push(name);
        }
        names
    }
}

/// Go's `avoidDNS`: empty names and `.onion` (RFC 7686) never go to DNS.
pub fn avoid_dns(name: &str) -> bool {
    if name.is_empty() {
        return true;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    name.len() >= 6 && name[name.len() - 6..].eq_ignore_ascii_case(".onion")
}

/// This host's name, as `os.Hostname` gives it.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its whole length; gethostname writes at
    // most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Go's `isDomainName`: whether `s` is a name DNS can be asked about.
pub fn is_domain_name(s: &str) -> bool {
    // The root domain name is valid.
    if s == "." {
        return true;
    }
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 254 || (b.len() == 254 && b[253] != b'.') {
        return false;
    }
    let mut last = b'.';
    let mut non_numeric = false;
    let mut part_len = 0;
    for &c in b {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                non_numeric = true;
                part_len += 1;
            }
            b'0'..=b'9' => part_len += 1,
            b'-' => {
                if last == b'.' {
                    return false;
                }
                part_len += 1;
                non_numeric = true;
            }
            b'.' => {
                if last == b'.' || last == b'-' {
                    return false;
                }
                if part_len > 63 || part_len == 0 {
                    return false;
                }
                part_len = 0;
            }
            _ => return false,
        }
        last = c;
    }
    if last == b'-' || part_len > 63 {
        return false;
    }
    non_numeric
}

/// Go's `hostLookupOrder`: where a host name is looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostOrder {
    /// The system resolver (getaddrinfo), where Go would use cgo.
    System,
    FilesDns,
    DnsFiles,
    Files,
    Dns,
}

/// One source of an nsswitch.conf database, with its `[STATUS=action]`
/// criteria.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NssSource {
    pub source: String,
    pub criteria: Vec<NssCriterion>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NssCriterion {
    pub negate: bool,
    /// Lower-cased: `success`, `notfound`, `unavail`, `tryagain`.
    pub status: String,
    /// Lower-cased: `return`, `continue`.
    pub action: String,
}

impl NssCriterion {
    /// Whether this criterion only restates the default (Go's
    /// `standardStatusAction`).
    fn standard(&self, last: bool) -> bool {
        if self.negate {
            return false;
        }
        let default = match self.status.as_str() {
            "success" => "return",
            "notfound" | "unavail" | "tryagain" => "continue",
            _ => return false,
        };
        if last && self.action == "return" {
            return true;
        }
        self.action == default
    }
}

impl NssSource {
    fn standard_criteria(&self) -> bool {
        let n = self.criteria.len();
        self.criteria
            .iter()
            .enumerate()
            .all(|(i, c)| c.standard(i + 1 == n))
    }
}

/// The sources of the `hosts` database in an nsswitch.conf text; `None`
/// when the text cannot be parsed.
pub fn parse_nsswitch_hosts(text: &str) -> Option<Vec<NssSource>> {
    let mut hosts = Vec::new();
    for line in text.lines() {
        let line = match line.find('#') {
            Some(i) => &line[..i],
            None => line,
        };
        let line = line.trim();
        let Some((db, rest)) = line.split_once(':') else {
            continue;
        };
        if db.trim() != "hosts" {
            continue;
        }
        hosts = parse_sources(rest)?;
    }
    Some(hosts)
}

fn parse_sources(mut s: &str) -> Option<Vec<NssSource>> {
    let mut sources: Vec<NssSource> = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Some(sources);
        }
        if let Some(rest) = s.strip_prefix('[') {
            let end = rest.find(']')?;
            let crit = &rest[..end];
            s = &rest[end + 1..];
            let source = sources.last_mut()?;
            for item in crit.split_ascii_whitespace() {
                let (negate, item) = match item.strip_prefix('!') {
                    Some(i) => (true, i),
                    None => (false, item),
                };
                let (status, action) = item.split_once('=')?;
                source.criteria.push(NssCriterion {
                    negate,
                    status: status.to_ascii_lowercase(),
                    action: action.to_ascii_lowercase(),
                });
            }
        } else {
            let end = s
                .find(|c: char| c.is_ascii_whitespace() || c == '[')
                .unwrap_or(s.len());
            sources.push(NssSource {
                source: s[..end].to_owned(),
                criteria: Vec::new(),
            });
            s = &s[end..];
        }
    }
}

fn is_localhost(h: &str) -> bool {
    let lower = h.to_ascii_lowercase();
    lower == "localhost"
        || lower == "localhost.localdomain"
        || lower.ends_with(".localhost")
        || lower.ends_with(".localhost.localdomain")
}

/// What the system looks like, for `host_order`: each field is what Go's
/// `conf.go` consults.
#[derive(Clone, Debug)]
pub struct System<'a> {
    /// `GONET_RESOLVER`: `go` or `system` force one resolver.
    pub forced: Option<&'a str>,
    /// `LOCALDOMAIN` set (even empty), `RES_OPTIONS` or `HOSTALIASES`
    /// non-empty.
    pub env_overrides: bool,
    pub resolv_unknown_opt: bool,
    /// The hosts sources of nsswitch.conf: `Ok(None)` when the file does not
    /// exist, `Err(())` when it cannot be read or parsed.
    pub nss_hosts: Result<Option<Vec<NssSource>>, ()>,
    pub has_mdns_allow: bool,
    pub this_hostname: &'a str,
}

/// Go's `conf.hostLookupOrder`, for Linux.
pub fn host_order(sys: &System<'_>, hostname: &str) -> HostOrder {
    let prefer_go = sys.forced == Some("go");
    let fallback = if prefer_go {
        HostOrder::FilesDns
    } else {
        HostOrder::System
    };
    if sys.forced == Some("system") {
        return HostOrder::System;
    }
    if !prefer_go && (sys.env_overrides || sys.resolv_unknown_opt) {
        return fallback;
    }
    if hostname.contains('\\') || hostname.contains('%') {
        return fallback;
    }
    let hostname = hostname.strip_suffix('.').unwrap_or(hostname);
    if hostname.len() >= 6 && hostname[hostname.len() - 6..].eq_ignore_ascii_case(".local") {
        return fallback;
    }
    let srcs = match &sys.nss_hosts {
        Ok(None) => return HostOrder::FilesDns,
        Ok(Some(srcs)) if srcs.is_empty() => return HostOrder::FilesDns,
        Ok(Some(srcs)) => srcs,
        Err(()) => return fallback,
    };
    let (mut mdns, mut files, mut dns) = (false, false, false);
    let mut first = "";
    for src in srcs {
        match src.source.as_str() {
            "myhostname" => {
                if is_localhost(hostname)
                    || hostname.eq_ignore_ascii_case("gateway")
                    || sys.this_hostname.is_empty()
                    || hostname.eq_ignore_ascii_case(sys.this_hostname)
                {
                    return fallback;
                }
            }
            "files" | "dns" => {
                if !src.standard_criteria() {
                    return fallback;
                }
                if src.source == "files" {
                    files = true;
                } else {
                    dns = true;
                }
                if first.is_empty() {
                    first = &src.source;
                }
            }
            s if s.starts_with("mdns") => mdns = true,
            _ => return fallback,
        }
    }
    if mdns && sys.has_mdns_allow {
        return fallback;
    }
    match (files, dns) {
        (true, true) if first == "files" => HostOrder::FilesDns,
        (true, true) => HostOrder::DnsFiles,
        (true, false) => HostOrder::Files,
        (false, true) => HostOrder::Dns,
        _ => fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_reads_as_go_reads_it() {
        let text = "# comment\n; another\nnameserver 8.8.8.8\nnameserver 2001:4860:4860::8888\n\
                    nameserver fe80::1%lo0\nnameserver 10.0.0.1\nnameserver 10.0.0.2\n\
                    domain localdomain\nsearch a.example b.example.\n\
                    options ndots:5 timeout:10 attempts:3 rotate single-request use-vc edns0 trust-ad\n";
        let c = DnsConfig::parse(text, "host.example");
        // The zoned address is skipped (not an address std parses), and
        // only three are kept.
        assert_eq!(
            c.servers,
            ["8.8.8.8:53", "[2001:4860:4860::8888]:53", "10.0.0.1:53"]
        );
        assert_eq!(c.search, ["a.example.", "b.example."]);
        assert_eq!(c.ndots, 5);
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.attempts, 3);
        assert!(c.rotate && c.single_request && c.use_tcp && c.trust_ad);
        assert!(!c.unknown_opt);
    }

    #[test]
    fn resolv_conf_defaults_and_clamps() {
        let c = DnsConfig::parse("", "host.corp.example");
        assert_eq!(c.servers, DEFAULT_SERVERS);
        assert_eq!(c.search, ["corp.example."]);
        assert_eq!((c.ndots, c.attempts), (1, 2));
        assert_eq!(c.timeout, Duration::from_secs(5));
        let c = DnsConfig::parse(
            "options ndots:99 timeout:0 attempts:-1\nsearch\n",
            "plainhost",
        );
        assert_eq!((c.ndots, c.attempts), (15, 1));
        assert_eq!(c.timeout, Duration::from_secs(1));
        assert!(c.search.is_empty());
        assert!(DnsConfig::parse("options inet6\n", "h").unknown_opt);
        assert!(DnsConfig::parse("sortlist 1.2.3.4\n", "h").unknown_opt);
        assert!(DnsConfig::missing("h").missing);
    }

    #[test]
    fn name_list_applies_ndots_and_search_as_go() {
        let c = DnsConfig {
            search: vec!["a.test.".into(), "b.test.".into()],
            ndots: 1,
            ..DnsConfig::default()
        };
        assert_eq!(
            c.name_list("host"),
            ["host.a.test.", "host.b.test.", "host."]
        );
        assert_eq!(
            c.name_list("www.host"),
            ["www.host.", "www.host.a.test.", "www.host.b.test."]
        );
        assert_eq!(c.name_list("abs.name."), ["abs.name."]);
        assert!(c.name_list("x.onion.").is_empty());
        assert_eq!(
            c.name_list("x.onion"),
            ["x.onion.a.test.", "x.onion.b.test."]
        );
        let c = DnsConfig { ndots: 0, ..c };
        assert_eq!(c.name_list("host")[0], "host.");
        assert!(c.name_list(&"a".repeat(254)).is_empty());
    }

    #[test]
    fn domain_names_as_go_checks_them() {
        for ok in ["a", "a.b", "a-b.c", "_srv._tcp.x", "x.", ".", "1a"] {
            assert!(is_domain_name(ok), "{ok}");
        }
        for bad in [
            "", "a..b", "-a", "a-", "a-.b", "123", "1.2.3.4", "a b", "é", "a.-b",
        ] {
            assert!(!is_domain_name(bad), "{bad}");
        }
        assert!(!is_domain_name(&format!("{}.x", "a".repeat(64))));
    }

    fn nss(text: &str) -> Result<Option<Vec<NssSource>>, ()> {
        parse_nsswitch_hosts(text).map(Some).ok_or(())
    }

    fn sys(nss_hosts: Result<Option<Vec<NssSource>>, ()>) -> System<'static> {
        System {
            forced: None,
            env_overrides: false,
            resolv_unknown_opt: false,
            nss_hosts,
            has_mdns_allow: false,
            this_hostname: "myhost",
        }
    }

    #[test]
    fn nsswitch_decides_the_order_as_go() {
        let order = |text: &str, host: &str| host_order(&sys(nss(text)), host);
        assert_eq!(order("hosts: files dns\n", "x.test"), HostOrder::FilesDns);
        assert_eq!(order("hosts: dns files\n", "x.test"), HostOrder::DnsFiles);
        assert_eq!(order("hosts: files\n", "x.test"), HostOrder::Files);
        assert_eq!(order("hosts:dns # c\n", "x.test"), HostOrder::Dns);
        assert_eq!(order("passwd: files\n", "x.test"), HostOrder::FilesDns);
        assert_eq!(
            order("hosts: files dns [NOTFOUND=return]\n", "x.test"),
            HostOrder::FilesDns
        );
        assert_eq!(
            order("hosts: files [!UNAVAIL=return] dns\n", "x.test"),
            HostOrder::System
        );
        assert_eq!(
            order("hosts: files ldap dns\n", "x.test"),
            HostOrder::System
        );
        assert_eq!(
            order(
                "hosts: files mdns4_minimal [NOTFOUND=return] dns\n",
                "x.test"
            ),
            HostOrder::FilesDns
        );
        assert_eq!(
            order("hosts: files myhostname dns\n", "x.test"),
            HostOrder::FilesDns
        );
        assert_eq!(
            order("hosts: files myhostname dns\n", "myhost"),
            HostOrder::System
        );
        assert_eq!(
            order("hosts: files myhostname dns\n", "localhost"),
            HostOrder::System
        );
        assert_eq!(
            order("hosts: files dns\n", "printer.local"),
            HostOrder::System
        );
        assert_eq!(order("hosts: files dns\n", "a%b"), HostOrder::System);
        assert_eq!(host_order(&sys(Ok(None)), "x.test"), HostOrder::FilesDns);
        assert_eq!(host_order(&sys(Err(())), "x.test"), HostOrder::System);
        assert_eq!(order("hosts: files [x\n", "x.test"), HostOrder::System);
        let mut s = sys(nss("hosts: files dns\n"));
        s.env_overrides = true;
        assert_eq!(host_order(&s, "x.test"), HostOrder::System);
        s.forced = Some("go");
        assert_eq!(host_order(&s, "x.test"), HostOrder::FilesDns);
        let mut s = sys(nss("hosts: files ldap\n"));
        s.forced = Some("go");
        assert_eq!(host_order(&s, "x.test"), HostOrder::FilesDns);
        let mut s = sys(nss("hosts: files dns\n"));
        s.forced = Some("system");
        assert_eq!(host_order(&s, "x.test"), HostOrder::System);
        let mut s = sys(nss("hosts: files dns\n"));
        s.resolv_unknown_opt = true;
        assert_eq!(host_order(&s, "x.test"), HostOrder::System);
    }
}
