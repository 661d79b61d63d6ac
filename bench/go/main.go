// Command bench is the Go column of bench/run.sh: the workloads of
// bench/bench.c written with Go's net package, printing the same result
// line. Standard library only.
//
// Shape of a run, as in bench.c: two processes. The client re-executes
// itself as the server (BENCH_ROLE=server), which listens on 127.0.0.1
// port 0 and prints the port on its stdout; Go cannot fork. Each side
// runs one goroutine per connection, Go's own idiom.
//
// Usage: bench WORKLOAD [key=value ...]
//
//	pingpong  conns=N secs=S size=B
//	stream    conns=N secs=S size=B
//	churn     conns=N secs=S
//	hold      conns=N size=B        N connections up at once, one echo each
//	relay     bytes=B               client -> proxy (io.Copy) -> server
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type params struct {
	workload string
	conns    int
	secs     float64
	size     int
	maxOps   int64
	bytes    int64
	mode     string
}

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "bench(go, pid %d): %s: %v\n", os.Getpid(), what, err)
	os.Exit(2)
}

func parse(args []string) params {
	if len(args) < 1 {
		die("usage", fmt.Errorf("bench pingpong|stream|churn|hold|relay [key=value ...]"))
	}
	p := params{workload: args[0], conns: 1, secs: 2, maxOps: 100_000_000, bytes: 1 << 30}
	switch p.workload {
	case "pingpong", "hold":
		p.size = 64
	case "stream":
		p.size = 65536
	case "churn", "relay":
		p.size = 1
	default:
		die("usage", fmt.Errorf("unknown workload %q", p.workload))
	}
	for _, a := range args[1:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			die("usage", fmt.Errorf("bad argument %q", a))
		}
		var err error
		switch k {
		case "conns":
			p.conns, err = strconv.Atoi(v)
		case "secs":
			p.secs, err = strconv.ParseFloat(v, 64)
		case "size":
			p.size, err = strconv.Atoi(v)
		case "max":
			p.maxOps, err = strconv.ParseInt(v, 10, 64)
		case "bytes":
			p.bytes, err = strconv.ParseInt(v, 10, 64)
		case "mode":
			p.mode = v
		case "keepalive":
			// Go's default keep-alive is already on; the key asks the
			// plain C build to match it.
			if v != "1" {
				err = fmt.Errorf("only keepalive=1 is known")
			}
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			die("usage: "+a, err)
		}
	}
	return p
}

// raiseNofile lifts the descriptor limit for the hold workload.
func raiseNofile(n uint64) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return
	}
	if lim.Cur < n {
		lim.Cur = n
		if lim.Max < n {
			lim.Max = n
		}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

func main() {
	p := parse(os.Args[1:])
	raiseNofile(uint64(p.conns + 256))
	// Last resort, as bench.c's alarm(): no process outlives its run by much.
	limit := time.Duration(p.secs+60) * time.Second
	time.AfterFunc(limit, func() { die("time limit", fmt.Errorf("%v", limit)) })
	switch os.Getenv("BENCH_ROLE") {
	case "server":
		server(p)
	case "proxy":
		proxy(p)
	default:
		client(p)
	}
}

// ---------------------------------------------------------------- server

// server listens, prints its port, serves the workload, and for hold
// prints its memory on stdout when done.
func server(p params) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		die("listen", err)
	}
	baseRSS := readStatus("VmRSS")
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	switch p.workload {
	case "pingpong", "stream":
		var wg sync.WaitGroup
		for i := 0; i < p.conns; i++ {
			c, err := ln.Accept()
			if err != nil {
				die("accept", err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if p.workload == "pingpong" {
					pingpongServer(c, p)
				} else {
					streamServer(c, p)
				}
			}()
		}
		wg.Wait()
	case "churn":
		churnServer(ln, p)
	case "hold":
		holdServer(ln, p, baseRSS)
	case "relay":
		sinkServer(ln)
	}
	ln.Close()
}

func pingpongServer(c net.Conn, p params) {
	buf := make([]byte, p.size)
	for i := int64(0); i <= p.maxOps; i++ {
		if _, err := io.ReadFull(c, buf); err != nil {
			break
		}
		if _, err := c.Write(buf); err != nil {
			die("pingpong echo", err)
		}
	}
	c.Close()
}

func streamServer(c net.Conn, p params) {
	buf := make([]byte, p.size)
	var got uint64
	for {
		n, err := c.Read(buf)
		got += uint64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			die("stream read", err)
		}
	}
	var ack [8]byte
	binary.LittleEndian.PutUint64(ack[:], got)
	if _, err := c.Write(ack[:]); err != nil {
		die("stream ack", err)
	}
	c.Close()
}

// churnServer: one goroutine per accepted connection, Go's idiom; a 'Q'
// from the client closes the listener, which ends the run.
func churnServer(ln net.Listener, p params) {
	var wg sync.WaitGroup
	var stopping atomic.Bool
	for i := int64(0); i <= p.maxOps+int64(p.conns); i++ {
		c, err := ln.Accept()
		if err != nil {
			if stopping.Load() {
				break
			}
			die("churn accept", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b [1]byte
			_, err := io.ReadFull(c, b[:])
			if err == nil && b[0] != 'Q' {
				_, err = c.Write(b[:])
			}
			c.Close()
			if err == nil && b[0] == 'Q' {
				stopping.Store(true)
				ln.Close()
			}
		}()
	}
	wg.Wait()
}

// holdServer: every connection gets a goroutine that echoes one message
// and then holds the connection until the client closes it.
func holdServer(ln net.Listener, p params, baseRSS int64) {
	var echoed, done sync.WaitGroup
	conns := make([]net.Conn, 0, p.conns)
	for i := 0; i < p.conns; i++ {
		c, err := ln.Accept()
		if err != nil {
			die("hold accept", err)
		}
		conns = append(conns, c)
		echoed.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			buf := make([]byte, p.size)
			if _, err := io.ReadFull(c, buf); err != nil {
				die("hold read", err)
			}
			if _, err := c.Write(buf); err != nil {
				die("hold write", err)
			}
			echoed.Done()
			// Held open: wait for the client's close.
			c.Read(buf[:1])
			c.Close()
		}()
	}
	echoed.Wait()
	hwm := readStatus("VmHWM")
	fmt.Printf("server_hwm_kb=%d server_base_kb=%d\n", hwm, baseRSS)
	os.Stdout.Sync()
	done.Wait()
	_ = conns
}

func sinkServer(ln net.Listener) {
	c, err := ln.Accept()
	if err != nil {
		die("sink accept", err)
	}
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		die("sink read", err)
	}
	var ack [8]byte
	binary.LittleEndian.PutUint64(ack[:], uint64(n))
	if _, err := c.Write(ack[:]); err != nil {
		die("sink ack", err)
	}
	c.Close()
}

// readStatus: a "VmRSS:  1234 kB" field of /proc/self/status, in kB.
func readStatus(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := s.Text(); strings.HasPrefix(line, key+":") {
			rest := line[len(key)+1:]
			v, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return v
		}
	}
	return 0
}

// ---------------------------------------------------------------- client

type child struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

// startServer re-executes this program as the server and reads its port.
func startServer(p params, extraEnv ...string) (child, int) {
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	// The later BENCH_ROLE wins.
	cmd.Env = append(append(os.Environ(), "BENCH_ROLE=server"), extraEnv...)
	cmd.Stderr = os.Stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		die("server pipe", err)
	}
	if err := cmd.Start(); err != nil {
		die("server start", err)
	}
	out := bufio.NewReader(pipe)
	line, err := out.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		die("server did not start", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		die("server port", err)
	}
	return child{cmd, out}, port
}

func (c child) wait() string {
	rest, _ := io.ReadAll(c.out)
	if err := c.cmd.Wait(); err != nil {
		die("server failed", err)
	}
	return strings.TrimSpace(string(rest))
}

func dial(port int) net.Conn {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		die("dial", err)
	}
	return c
}

func client(p params) {
	if p.workload == "relay" {
		relayClient(p)
		return
	}
	srv, port := startServer(p)
	switch p.workload {
	case "pingpong":
		pingpongClient(p, port)
	case "stream":
		streamClient(p, port)
	case "churn":
		churnClient(p, port)
	case "hold":
		holdClient(p, port, srv)
		return
	}
	srv.wait()
}

// run starts one goroutine per connection after all have dialled (when
// dial is set), and returns the earliest start and latest end.
func run(p params, port int, dialFirst bool, body func(i int, c net.Conn, deadline time.Time) int64) (time.Duration, []int64) {
	conns := make([]net.Conn, p.conns)
	if dialFirst {
		for i := range conns {
			conns[i] = dial(port)
		}
	}
	ops := make([]int64, p.conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(time.Duration(p.secs * float64(time.Second)))
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ops[i] = body(i, conns[i], deadline)
		}(i)
	}
	wg.Wait()
	return time.Since(start), ops
}

func pingpongClient(p params, port int) {
	lat := make([][]uint32, p.conns)
	elapsed, ops := run(p, port, true, func(i int, c net.Conn, deadline time.Time) int64 {
		buf := make([]byte, p.size)
		samples := make([]uint32, 0, 1<<20)
		t0 := time.Now()
		var n int64
		for n < p.maxOps && t0.Before(deadline) {
			if _, err := c.Write(buf); err != nil {
				die("pingpong write", err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				die("pingpong read", err)
			}
			t1 := time.Now()
			samples = append(samples, uint32(t1.Sub(t0)))
			t0 = t1
			n++
		}
		lat[i] = samples
		c.Close()
		return n
	})
	var all []uint32
	var total int64
	for i := range lat {
		all = append(all, lat[i]...)
		total += ops[i]
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	var p50, p99 float64
	if len(all) > 0 {
		p50 = float64(all[(len(all)-1)*50/100]) / 1e3
		p99 = float64(all[(len(all)-1)*99/100]) / 1e3
	}
	secs := elapsed.Seconds()
	fmt.Printf("impl=go workload=pingpong conns=%d secs=%.2f size=%d rtts=%d rtt_per_s=%.0f p50_us=%.2f p99_us=%.2f\n",
		p.conns, secs, p.size, total, float64(total)/secs, p50, p99)
}

func streamClient(p params, port int) {
	elapsed, ops := run(p, port, true, func(i int, c net.Conn, deadline time.Time) int64 {
		buf := make([]byte, p.size)
		for j := range buf {
			buf[j] = 'x'
		}
		var n int64
		for n < p.maxOps && time.Now().Before(deadline) {
			if _, err := c.Write(buf); err != nil {
				die("stream write", err)
			}
			n++
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			die("stream close_write", err)
		}
		var ack [8]byte
		if _, err := io.ReadFull(c, ack[:]); err != nil {
			die("stream ack", err)
		}
		if got := binary.LittleEndian.Uint64(ack[:]); got != uint64(n)*uint64(p.size) {
			die("stream", fmt.Errorf("sent %d, server got %d", uint64(n)*uint64(p.size), got))
		}
		c.Close()
		return n
	})
	var bytes uint64
	for _, n := range ops {
		bytes += uint64(n) * uint64(p.size)
	}
	secs := elapsed.Seconds()
	fmt.Printf("impl=go workload=stream conns=%d secs=%.2f size=%d bytes=%d mib_per_s=%.1f\n",
		p.conns, secs, p.size, bytes, float64(bytes)/1048576/secs)
}

func churnClient(p params, port int) {
	elapsed, ops := run(p, port, false, func(i int, _ net.Conn, deadline time.Time) int64 {
		var n int64
		b := []byte{'x'}
		for n < p.maxOps && time.Now().Before(deadline) {
			c := dial(port)
			if _, err := c.Write(b); err != nil {
				die("churn write", err)
			}
			if _, err := io.ReadFull(c, b); err != nil {
				die("churn read", err)
			}
			c.Close()
			n++
		}
		return n
	})
	c := dial(port)
	c.Write([]byte{'Q'})
	var b [1]byte
	c.Read(b[:])
	c.Close()
	var total int64
	for _, n := range ops {
		total += n
	}
	secs := elapsed.Seconds()
	fmt.Printf("impl=go workload=churn conns=%d secs=%.2f conns_total=%d conns_per_s=%.0f\n",
		p.conns, secs, total, float64(total)/secs)
}

// holdClient dials every connection, sends one message on each, reads
// every echo, and only then closes them all.
func holdClient(p params, port int, srv child) {
	start := time.Now()
	conns := make([]net.Conn, p.conns)
	for i := range conns {
		conns[i] = dial(port)
	}
	up := time.Since(start)
	buf := make([]byte, p.size)
	for _, c := range conns {
		if _, err := c.Write(buf); err != nil {
			die("hold write", err)
		}
	}
	for _, c := range conns {
		if _, err := io.ReadFull(c, buf); err != nil {
			die("hold read", err)
		}
	}
	echoed := time.Since(start)
	line, err := srv.out.ReadString('\n')
	if err != nil {
		die("hold server report", err)
	}
	for _, c := range conns {
		c.Close()
	}
	srv.wait()
	fields := map[string]int64{}
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		fields[k], _ = strconv.ParseInt(v, 10, 64)
	}
	hwm, base := fields["server_hwm_kb"], fields["server_base_kb"]
	fmt.Printf("impl=go workload=hold conns=%d size=%d up_ms=%.1f echo_ms=%.1f server_hwm_kb=%d bytes_per_conn=%.0f\n",
		p.conns, p.size, float64(up.Microseconds())/1e3, float64(echoed.Microseconds())/1e3,
		hwm, float64((hwm-base)*1024)/float64(p.conns))
}

// relayClient: the client here, a proxy relaying with io.Copy (which
// splices between TCP connections) and a sink server, in three processes.
func relayClient(p params) {
	srv, sport := startServer(p)
	proxy, pport := startServer(p, "BENCH_ROLE=proxy", fmt.Sprintf("BENCH_UPSTREAM=%d", sport))
	c := dial(pport)
	buf := make([]byte, 256<<10)
	start := time.Now()
	var sent int64
	for sent < p.bytes {
		n := int64(len(buf))
		if p.bytes-sent < n {
			n = p.bytes - sent
		}
		if _, err := c.Write(buf[:n]); err != nil {
			die("relay write", err)
		}
		sent += n
	}
	c.(*net.TCPConn).CloseWrite()
	var ack [8]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		die("relay ack", err)
	}
	elapsed := time.Since(start)
	if got := binary.LittleEndian.Uint64(ack[:]); got != uint64(sent) {
		die("relay", fmt.Errorf("sent %d, server got %d", sent, got))
	}
	c.Close()
	report := proxy.wait()
	srv.wait()
	secs := elapsed.Seconds()
	fmt.Printf("impl=go workload=relay mode=io.Copy bytes=%d secs=%.2f mib_per_s=%.1f %s\n",
		sent, secs, float64(sent)/1048576/secs, report)
}

// proxy accepts the client, dials the sink, relays with io.Copy both ways
// (the data up, the 8-byte acknowledgement down) and reports its CPU time.
func proxy(p params) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		die("proxy listen", err)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	in, err := ln.Accept()
	if err != nil {
		die("proxy accept", err)
	}
	upstream, _ := strconv.Atoi(os.Getenv("BENCH_UPSTREAM"))
	out := dial(upstream)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	if _, err := io.Copy(out, in); err != nil {
		die("proxy copy", err)
	}
	out.(*net.TCPConn).CloseWrite()
	if _, err := io.Copy(in, out); err != nil {
		die("proxy copy back", err)
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := func(r syscall.Rusage) float64 {
		return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e6
	}
	fmt.Printf("proxy_cpu_ms=%.1f\n", cpu(ru1)-cpu(ru0))
	in.Close()
	out.Close()
	ln.Close()
}
