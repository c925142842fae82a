// Command tailnode is wippy's binding to Tailscale's embedded node, tsnet,
// built with `go build -buildmode=c-shared` and loaded by wippy when a
// tailscale entry is first used (src/net/tailnode_library.c). The C
// side (src/net/tailscale.c, through tailnode.h) owns one event loop and must
// never block, so every call here returns at once and every outcome arrives
// later as one line on the event pipe the C side gives to tailnode_events:
//
//	up <node> <ip,ip>            the node logged in and is usable
//	down <node> <reason>         it could not come up (or went away)
//	dial <request> <fd>          a dial connected; fd is the caller's end
//	dialerr <request> <reason>
//	accept <listener> <fd> <ip>  a tailnet peer connected to a listener
//
// Each connection reaches C as one end of a socketpair; goroutines copy
// between the other end and the tailnet connection. Lines stay far below
// PIPE_BUF, so concurrent writers never interleave.
package main

/*
#include <stddef.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"tailscale.com/envknob"
	"tailscale.com/net/tsaddr"
	"tailscale.com/tsnet"
)

type node struct {
	server    *tsnet.Server
	ephemeral bool
	ctx       context.Context
	stop      context.CancelFunc
}

var (
	mu        sync.Mutex
	nodes     = map[int]*node{}
	dials     = map[int]context.CancelFunc{}
	listeners = map[int]net.Listener{}
	nextID    = 1
	events    *os.File
)

func main() {}

func register() int {
	id := nextID
	nextID++
	return id
}

func emit(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	line = strings.ReplaceAll(line, "\n", " ")
	if len(line) > 1000 {
		line = line[:1000]
	}
	mu.Lock()
	out := events
	mu.Unlock()
	if out != nil {
		out.WriteString(line + "\n")
	}
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// tailnode_events hands Go the write end of the event pipe (-1 takes it back
// and closes it).
//
// tailnode_abi is the version of the functions below; the C side refuses a
// library whose version is not its own (TAILNODE_ABI in tailnode_library.h).
//
//export tailnode_abi
func tailnode_abi() C.int { return 1 }

//export tailnode_events
func tailnode_events(fd C.int) {
	// Never upload logs to Tailscale's log service, whatever the environment says.
	envknob.SetNoLogsNoSupport()
	mu.Lock()
	previous := events
	events = os.NewFile(uintptr(fd), "tailnode-events") // nil for -1: events are dropped
	mu.Unlock()
	if previous != nil {
		previous.Close()
	}
}

// tailnode_new makes a node; nothing touches the network until tailnode_start.
// log_fd receives tsnet's own log (-1 discards it).
//
//export tailnode_new
func tailnode_new(dir, hostname, authKey, controlURL *C.char, ephemeral, logFD C.int) C.int {
	server := &tsnet.Server{
		Dir:        C.GoString(dir),
		Hostname:   C.GoString(hostname),
		AuthKey:    C.GoString(authKey),
		ControlURL: C.GoString(controlURL),
		Ephemeral:  ephemeral != 0,
	}
	if logFD >= 0 {
		out := os.NewFile(uintptr(logFD), "tailnode-log")
		server.Logf = func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
		server.UserLogf = server.Logf
	} else {
		server.Logf = func(string, ...any) {}
		server.UserLogf = server.Logf
	}
	ctx, stop := context.WithCancel(context.Background())
	mu.Lock()
	defer mu.Unlock()
	id := register()
	nodes[id] = &node{server: server, ephemeral: ephemeral != 0, ctx: ctx, stop: stop}
	return C.int(id)
}

func find(id C.int) *node {
	mu.Lock()
	defer mu.Unlock()
	return nodes[int(id)]
}

// tailnode_start logs the node in; `up` or `down` follows.
//
//export tailnode_start
func tailnode_start(id C.int, timeoutMS C.int) {
	n := find(id)
	if n == nil {
		emit("down %d no such node", id)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(n.ctx, time.Duration(timeoutMS)*time.Millisecond)
		defer cancel()
		status, err := n.server.Up(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err = fmt.Errorf("not logged in after %v (%v)", time.Duration(timeoutMS)*time.Millisecond, lastProblem(n, err))
			}
			emit("down %d %s", id, oneLine(err))
			return
		}
		addresses := make([]string, 0, len(status.TailscaleIPs))
		for _, ip := range status.TailscaleIPs {
			addresses = append(addresses, ip.String())
		}
		emit("up %d %s", id, strings.Join(addresses, ","))
	}()
}

// lastProblem tells why a login is stuck, from the node's own health report.
func lastProblem(n *node, fallback error) string {
	local, err := n.server.LocalClient()
	if err != nil {
		return oneLine(fallback)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	status, err := local.StatusWithoutPeers(ctx)
	if err != nil || len(status.Health) == 0 {
		return oneLine(fallback)
	}
	return strings.Join(status.Health, "; ")
}

// resolve turns a tailnet name or address into a tailnet address, using the
// node's own view of the tailnet only: a name is never looked up in the
// system's DNS, an address outside the tailnet is refused, and so is a
// tailnet address that is neither a peer's nor the node's own: tsnet dials
// any address that is not a peer in its current netmap directly from this
// host (so would a tailnet address whose node this one has not heard of yet).
func resolve(ctx context.Context, n *node, host string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(host)
	if err == nil && !tsaddr.IsTailscaleIP(ip) {
		return netip.Addr{}, fmt.Errorf("%s is not a tailnet address (nothing was sent)", host)
	}
	address := err == nil
	local, err := n.server.LocalClient()
	if err != nil {
		return netip.Addr{}, err
	}
	status, err := local.Status(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	if address {
		if ip = ip.Unmap(); slices.Contains(status.TailscaleIPs, ip) {
			return ip, nil
		}
		for _, peer := range status.Peer {
			if slices.Contains(peer.TailscaleIPs, ip) {
				return ip, nil
			}
		}
		return netip.Addr{}, fmt.Errorf("%s is not a peer on this tailnet (nothing was sent)", host)
	}
	wanted := strings.TrimSuffix(strings.ToLower(host), ".")
	for _, peer := range status.Peer {
		dnsName := strings.TrimSuffix(strings.ToLower(peer.DNSName), ".")
		short, _, _ := strings.Cut(dnsName, ".")
		if (wanted == dnsName || wanted == short || wanted == strings.ToLower(peer.HostName)) &&
			len(peer.TailscaleIPs) > 0 {
			return peer.TailscaleIPs[0], nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%s is not a peer on this tailnet (nothing was sent)", host)
}

// tailnode_dial connects to host:port on the tailnet; `dial` or `dialerr`
// with the request number follows unless tailnode_cancel comes first.
//
//export tailnode_dial
func tailnode_dial(id C.int, host *C.char, port C.int, timeoutMS C.int) C.int {
	target := C.GoString(host)
	n := find(id)
	mu.Lock()
	request := register()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutMS)*time.Millisecond)
	dials[request] = cancel
	mu.Unlock()
	go func() {
		defer cancel()
		conn, err := dialTailnet(ctx, n, target, int(port))
		mu.Lock()
		_, wanted := dials[request]
		delete(dials, request)
		mu.Unlock()
		if !wanted { // cancelled: nobody will read the outcome
			if conn != nil {
				conn.Close()
			}
			return
		}
		if err != nil {
			emit("dialerr %d %s", request, oneLine(err))
			return
		}
		fd, err := hand(conn)
		if err != nil {
			emit("dialerr %d %s", request, oneLine(err))
			return
		}
		emit("dial %d %d", request, fd)
	}()
	return C.int(request)
}

func dialTailnet(ctx context.Context, n *node, host string, port int) (net.Conn, error) {
	if n == nil {
		return nil, errors.New("no such node")
	}
	ip, err := resolve(ctx, n, host)
	if err != nil {
		return nil, err
	}
	conn, err := n.server.Dial(ctx, "tcp", netip.AddrPortFrom(ip, uint16(port)).String())
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("timed out connecting to %s:%d", host, port)
	}
	return conn, err
}

//export tailnode_cancel
func tailnode_cancel(request C.int) {
	mu.Lock()
	cancel := dials[int(request)]
	delete(dials, int(request))
	mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// tailnode_listen accepts TCP connections on port of the node's tailnet
// addresses only; returns a listener number, or 0 with why in buf.
//
//export tailnode_listen
func tailnode_listen(id C.int, port C.int, buf *C.char, size C.size_t) C.int {
	n := find(id)
	if n == nil {
		writeString(buf, size, "no such node")
		return 0
	}
	listener, err := n.server.Listen("tcp", fmt.Sprintf(":%d", int(port)))
	if err != nil {
		writeString(buf, size, oneLine(err))
		return 0
	}
	mu.Lock()
	lid := register()
	listeners[lid] = listener
	mu.Unlock()
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return // closed
			}
			remote := ""
			if address, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
				remote = address.IP.String()
			}
			fd, err := hand(conn)
			if err != nil {
				continue
			}
			emit("accept %d %d %s", lid, fd, remote)
		}
	}()
	return C.int(lid)
}

//export tailnode_close_listener
func tailnode_close_listener(lid C.int) {
	mu.Lock()
	listener := listeners[int(lid)]
	delete(listeners, int(lid))
	mu.Unlock()
	if listener != nil {
		listener.Close()
	}
}

// tailnode_close stops the node; an ephemeral node logs out first, so the
// control server forgets it at once. Blocks for at most a few seconds.
//
//export tailnode_close
func tailnode_close(id C.int) {
	mu.Lock()
	n := nodes[int(id)]
	delete(nodes, int(id))
	mu.Unlock()
	if n == nil {
		return
	}
	n.stop()
	if n.ephemeral {
		if local, err := n.server.LocalClient(); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			local.Logout(ctx)
			cancel()
		}
	}
	n.server.Close()
}

// hand gives one end of a new socketpair to C and copies between the other
// end and conn until either side closes.
func hand(conn net.Conn) (int, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		conn.Close()
		return -1, err
	}
	file := os.NewFile(uintptr(fds[1]), "tailnode-conn")
	ours, err := net.FileConn(file)
	file.Close()
	if err != nil {
		syscall.Close(fds[0])
		conn.Close()
		return -1, err
	}
	var both sync.WaitGroup
	both.Add(2)
	go pump(ours, conn, &both)
	go pump(conn, ours, &both)
	go func() {
		both.Wait()
		conn.Close()
		ours.Close()
	}()
	return fds[0], nil
}

type halfCloser interface{ CloseWrite() error }

// pump copies one direction; at the end of the stream it passes the end on
// (half-close), after an error it tears both directions down.
func pump(to, from net.Conn, both *sync.WaitGroup) {
	defer both.Done()
	buffer := make([]byte, 64*1024)
	_, err := io.CopyBuffer(to, from, buffer)
	if closer, ok := to.(halfCloser); ok && err == nil {
		closer.CloseWrite()
		return
	}
	to.Close()
	from.Close()
}

func writeString(buf *C.char, size C.size_t, text string) {
	if size == 0 {
		return
	}
	bytes := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(size))
	n := copy(bytes[:len(bytes)-1], text)
	bytes[n] = 0
}
