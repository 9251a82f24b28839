// Package pcapng writes captures in the pcapng format (draft-ietf-opsawg-pcapng), which
// Wireshark, tshark and tcpdump read: one section, an interface per captured link, an enhanced
// packet block per frame, and name resolution blocks that name a lab's hosts.
//
// It writes what udplab needs and no more, each block with one write, so that a file cut short
// by a kill ends at a block boundary and still reads. It is udplab's own rather than
// github.com/google/gopacket/pcapgo's: that package brings gopacket/layers, whose
// initialisation costs every udplab start about 4 ms and 466 kB (measured with
// GODEBUG=inittrace=1), more than half of udplab's whole start-up; the tests read the files back
// with pcapgo's reader and with tcpdump.
package pcapng

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"time"
)

// Block types and option codes used here.
const (
	blockSectionHeader  = 0x0A0D0D0A
	blockInterface      = 0x00000001
	blockNameResolution = 0x00000004
	blockEnhancedPacket = 0x00000006

	byteOrderMagic = 0x1A2B3C4D

	optEnd       = 0
	optIfName    = 2
	optIfTsResol = 9
	optShbApp    = 4

	nrbEnd  = 0
	nrbIPv4 = 1
	nrbIPv6 = 2
)

// LinkEthernet is the link type of Ethernet frames (as lo's and a bridge's frames are read from
// a packet socket).
const LinkEthernet = 1

// Writer writes a pcapng file.
type Writer struct {
	w          io.Writer
	interfaces int
	buf        []byte
}

var le = binary.LittleEndian

// NewWriter writes the section header to w, naming app as the program that wrote it, and
// returns a Writer that adds blocks to that section.
func NewWriter(w io.Writer, app string) (*Writer, error) {
	wr := &Writer{w: w}
	b := wr.begin(blockSectionHeader)
	b = le.AppendUint32(b, byteOrderMagic)
	b = le.AppendUint16(b, 1) // version 1.0
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, 0xFFFFFFFFFFFFFFFF) // section length: not given
	b = appendOption(b, optShbApp, []byte(app))
	b = appendOption(b, optEnd, nil)
	return wr, wr.end(b)
}

// AddInterface describes an interface the frames come from, named name, and returns its id for
// WritePacket. Timestamps are in nanoseconds.
func (w *Writer) AddInterface(name string, linkType uint16, snapLen uint32) (int, error) {
	b := w.begin(blockInterface)
	b = le.AppendUint16(b, linkType)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, snapLen)
	b = appendOption(b, optIfName, []byte(name))
	b = appendOption(b, optIfTsResol, []byte{9}) // 10^-9 s
	b = appendOption(b, optEnd, nil)
	if err := w.end(b); err != nil {
		return 0, err
	}
	w.interfaces++
	return w.interfaces - 1, nil
}

// Name is one record of a name resolution block: an address and its name.
type Name struct {
	Addr netip.Addr
	Name string
}

// WriteNames writes a name resolution block of names, so that a reader shows the names for the
// addresses.
func (w *Writer) WriteNames(names []Name) error {
	b := w.begin(blockNameResolution)
	for _, n := range names {
		var rec []byte
		typ := uint16(nrbIPv4)
		if n.Addr.Is6() && !n.Addr.Is4In6() {
			typ = nrbIPv6
		}
		rec = append(rec, n.Addr.Unmap().AsSlice()...)
		rec = append(rec, n.Name...)
		rec = append(rec, 0)
		b = appendOption(b, typ, rec)
	}
	b = appendOption(b, nrbEnd, nil)
	return w.end(b)
}

// WritePacket writes a frame captured on interface iface at t; origLen is its length on the
// wire, when data holds only its start.
func (w *Writer) WritePacket(iface int, t time.Time, data []byte, origLen int) error {
	if iface < 0 || iface >= w.interfaces {
		return errors.New("pcapng: no such interface")
	}
	ts := uint64(t.UnixNano())
	b := w.begin(blockEnhancedPacket)
	b = le.AppendUint32(b, uint32(iface))
	b = le.AppendUint32(b, uint32(ts>>32))
	b = le.AppendUint32(b, uint32(ts))
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint32(b, uint32(max(origLen, len(data))))
	b = append(b, data...)
	b = pad(b)
	return w.end(b)
}

// begin starts a block of type typ in w's buffer, its length to be filled by end.
func (w *Writer) begin(typ uint32) []byte {
	b := w.buf[:0]
	b = le.AppendUint32(b, typ)
	return le.AppendUint32(b, 0)
}

// end fills in the block's length, at its start and its end, and writes it with one write.
func (w *Writer) end(b []byte) error {
	total := uint32(len(b) + 4)
	le.PutUint32(b[4:8], total)
	b = le.AppendUint32(b, total)
	w.buf = b
	_, err := w.w.Write(b)
	return err
}

// appendOption appends an option (or a name resolution record, which has the same shape): its
// code, its length, its value padded to 32 bits.
func appendOption(b []byte, code uint16, value []byte) []byte {
	b = le.AppendUint16(b, code)
	b = le.AppendUint16(b, uint16(len(value)))
	b = append(b, value...)
	return pad(b)
}

func pad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
