package luabind

import (
	"os"
	"sort"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/pcapng"
	"github.com/udplab/udplab/sock"
)

// The pcap file: every frame the wire view captures (lo for this run's sockets, and every frame
// on a lab's LANs), written as pcapng as it comes, for Wireshark, tshark or tcpdump.

// pcapFile is a pcapng file being written.
type pcapFile struct {
	mu     sync.Mutex
	f      *os.File
	w      *pcapng.Writer
	ifaces map[*sock.Capture]int
	err    error // the first write that failed
}

// write adds frame, captured by c at t; its link is described first, with a lab's host names.
func (p *pcapFile) write(c *sock.Capture, frame []byte, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	id, ok := p.ifaces[c]
	if !ok {
		id, p.err = p.w.AddInterface(c.Label(), pcapng.LinkEthernet, 1<<16)
		if p.err != nil {
			return
		}
		p.ifaces[c] = id
		if names := c.Names(); len(names) > 0 {
			var records []pcapng.Name
			for addr, name := range names {
				records = append(records, pcapng.Name{Addr: addr, Name: name})
			}
			sort.Slice(records, func(i, j int) bool { return records[i].Addr.Less(records[j].Addr) })
			if p.err = p.w.WriteNames(records); p.err != nil {
				return
			}
		}
	}
	p.err = p.w.WritePacket(id, t, frame, len(frame))
}

// StartPcap writes every frame the wire view captures to path, as pcapng, from now until the
// end (or pcap(false)): lo's frames of this run's sockets (when capture on lo is permitted;
// else one line on stderr says so) and every frame on a lab's LANs. The file is written as the
// frames come, a block at a time, so that it reads after any exit; each comes a few milliseconds
// late, for the blocks of all the links to be in the order they crossed (sock merges them).
func (rt *Runtime) StartPcap(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	w, err := pcapng.NewWriter(f, "udplab")
	if err != nil {
		f.Close()
		return err
	}
	p := &pcapFile{f: f, w: w, ifaces: map[*sock.Capture]int{}}
	rt.stopPcap()
	rt.mu.Lock()
	rt.pcap = p
	rt.mu.Unlock()
	rt.tracer.SetFrameSink(p.write)
	rt.startCaptures(rt.stderr())
	return nil
}

// stopPcap ends the pcap file, if one is being written, and the captures when nothing else
// wants them.
func (rt *Runtime) stopPcap() error {
	rt.mu.Lock()
	p := rt.pcap
	rt.pcap = nil
	rt.mu.Unlock()
	if p == nil {
		return nil
	}
	rt.tracer.Collect() // what crossed last is in the file too
	rt.tracer.SetFrameSink(nil)
	if !rt.tracer.Printing() {
		rt.stopTrace()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.f.Close()
	if p.err != nil {
		err = p.err
	}
	return err
}

var pcapBinding = binding{name: "pcap", fn: (*Runtime).pcapCall, help: helpEntry{
	`pcap(file)`,
	`write the frames the wire view captures to file, as pcapng for Wireshark (udplab --pcap)`,
	"0; on failure nil, message, errno. Every frame on a lab's LANs, with the hosts'\n" +
		"names, and lo's frames of this run's sockets (capturing lo needs CAP_NET_RAW; a\n" +
		"lab's LANs need nothing). pcap(false) ends the file.",
	"EACCES (13)  the file cannot be written here\nENOENT (2)  no such folder"}}

// pcapCall is pcap(file) or pcap(false).
func (rt *Runtime) pcapCall(a args) int {
	if v := a.L.Get(1); v == lua.LFalse || v == lua.LNil {
		return pushZero(a.L, rt.stopPcap())
	}
	return pushZero(a.L, rt.StartPcap(a.string(1)))
}
