"""The Python resolver API against the dnsmasq that tests/dns.rs starts in
its namespace (run by that test, inside the namespace; not a unittest
module, since it needs that name server)."""

import threading
import time

import gonet

r = gonet.Resolver(servers=["127.0.0.1:53"], timeout=5)
assert r.lookup_ip("www.gonet.test", "ip4") == ["10.0.0.1"], r.lookup_ip("www.gonet.test", "ip4")
assert gonet.lookup_ip("www.gonet.test", "ip6") == ["fd00::1"]
assert r.lookup_cname("alias.gonet.test") == "www.gonet.test."
assert r.lookup_mx("gonet.test") == [gonet.MX("mail1.gonet.test.", 10), gonet.MX("mail2.gonet.test.", 20)]
assert r.lookup_ns("gonet.test") == ["ns1.gonet.test."]
srv = r.lookup_srv("http", "tcp", "gonet.test")
assert srv[0] == gonet.SRV("web.gonet.test.", 8080, 1, 10), srv
assert r.lookup_txt("txt.gonet.test") == ["v=1 w\u00f6rlda\\b".encode("utf-8")], r.lookup_txt("txt.gonet.test")
assert gonet.lookup_addr("10.0.0.5") == ["ptr.gonet.test."]
try:
    r.lookup_ip("nosuchhost.gonet.test")
    raise AssertionError("no error")
except gonet.NoSuchHostError as e:
    assert e.code == gonet.NET_ENOHOST
    assert str(e) == "lookup_ip: lookup nosuchhost.gonet.test on 127.0.0.1:53: no such host", str(e)
# A server that never answers: a temporary failure is not "no such host".
silent = gonet.listen_packet("udp", "127.0.0.3:53")
quick = gonet.Resolver(servers="127.0.0.3:53", timeout=0.2)
try:
    quick.lookup_ip("www.gonet.test")
    raise AssertionError("no error")
except gonet.DeadlineExceededError as e:
    assert not isinstance(e, gonet.NoSuchHostError)
# Cancelled from another thread.
slow = gonet.Resolver(servers="127.0.0.3:53")
threading.Timer(0.1, slow.cancel).start()
start = time.monotonic()
try:
    slow.lookup_ip("www.gonet.test")
    raise AssertionError("no error")
except gonet.CanceledError:
    assert time.monotonic() - start < 1.0
# dial and Dialer resolve through a resolver.
ln = gonet.listen("tcp", "127.0.0.1:0")
port = ln.local_addr.rsplit(":", 1)[1]
hosts = gonet.Resolver(servers="127.0.0.1:53")
try:
    gonet.dial("tcp", "nosuchhost.gonet.test:" + port, resolver=hosts)
    raise AssertionError("no error")
except gonet.NoSuchHostError:
    pass
with gonet.Dialer(resolver=r) as d:
    try:
        d.dial("tcp", "nosuchhost.gonet.test:" + port)
        raise AssertionError("no error")
    except gonet.NoSuchHostError:
        pass
for h in (ln, silent, quick, slow, hosts, r):
    h.close()
print("python resolver checks passed")
