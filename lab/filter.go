package lab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The tables udplab keeps in a host's namespace: one per purpose, replaced whole on each change.
const (
	firewallTable = "udplab_firewall"
	lossTable     = "udplab_loss"
	natTable      = "udplab_nat"
)

// nft opens an nftables connection inside ns.
func nft(ns netns.NsHandle) (*nftables.Conn, error) {
	return nftables.New(nftables.WithNetNSFd(int(ns)))
}

// replaceTable deletes table name of family (if it exists) and, when fill is not nil, makes it
// again with the chains and rules fill adds, in one transaction.
func replaceTable(ns netns.NsHandle, family nftables.TableFamily, name string, fill func(c *nftables.Conn, t *nftables.Table)) error {
	c, err := nft(ns)
	if err != nil {
		return err
	}
	t := &nftables.Table{Family: family, Name: name}
	if tables, err := c.ListTablesOfFamily(family); err == nil {
		for _, old := range tables {
			if old.Name == name {
				c.DelTable(t)
			}
		}
	}
	if fill != nil {
		c.AddTable(t)
		fill(c, t)
	}
	return c.Flush()
}

// udpOnly is the match of UDP, over IPv4 or IPv6.
func udpOnly() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
	}
}

// firewall makes the host in ns drop or reject the UDP datagrams that come to it and, when it is
// a router, those it would forward; mode "" takes the firewall away. A reject answers with ICMP
// "administratively prohibited", as firewalls do.
func firewall(ns netns.NsHandle, mode string) error {
	var verdict expr.Any
	switch mode {
	case "":
		return replaceTable(ns, nftables.TableFamilyINet, firewallTable, nil)
	case "drop":
		verdict = &expr.Verdict{Kind: expr.VerdictDrop}
	case "reject":
		verdict = &expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED}
	default:
		return fmt.Errorf("firewall %q: use \"drop\", \"reject\" or nil", mode)
	}
	return replaceTable(ns, nftables.TableFamilyINet, firewallTable, func(c *nftables.Conn, t *nftables.Table) {
		for _, hook := range []struct {
			name string
			hook *nftables.ChainHook
		}{{"input", nftables.ChainHookInput}, {"forward", nftables.ChainHookForward}} {
			ch := c.AddChain(&nftables.Chain{Name: hook.name, Table: t, Type: nftables.ChainTypeFilter,
				Hooknum: hook.hook, Priority: nftables.ChainPriorityFilter})
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: append(udpOnly(), verdict)})
		}
	})
}

// nat makes router h masquerade what leaves it on LAN lan: the hosts behind it appear as its
// address there.
func (b *built) nat(h int, lan string) error {
	host := &b.spec.Hosts[h]
	if !host.Router() {
		return fmt.Errorf("host %s is on one LAN: only a router can translate addresses", host.Name)
	}
	k := -1
	for i, l := range host.LANs {
		if b.spec.LANs[l].Name == lan {
			k = i
		}
	}
	if lan == "" {
		return replaceTable(b.hosts[h], nftables.TableFamilyIPv4, natTable, nil)
	}
	if k < 0 {
		return fmt.Errorf("host %s is not on LAN %q", host.Name, lan)
	}
	ifname := make([]byte, unix.IFNAMSIZ)
	copy(ifname, hostIf(k))
	return replaceTable(b.hosts[h], nftables.TableFamilyIPv4, natTable, func(c *nftables.Conn, t *nftables.Table) {
		ch := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname},
			&expr.Masq{},
		}})
	})
}

// impair sets what host h's links do to its traffic: UDP loss each way, on the link itself (the
// bridge drops the frame, so that neither end's kernel knows: a send still returns its byte
// count), and delay and rate of what it sends (the netem qdisc, or tbf for a rate alone, on its
// interface, as a slow link's own queue would). A zero Impairment takes it all away.
func (b *built) impair(h int, imp Impairment) error {
	if imp.Loss < 0 || imp.Loss > 1 || imp.Delay < 0 || imp.Delay > 60 {
		return fmt.Errorf("loss must be within 0..1 and delay within 0..60 s")
	}
	b.loss[h] = imp.Loss
	if imp.Loss == 0 {
		delete(b.loss, h)
	}
	if err := b.linkLoss(); err != nil {
		delete(b.loss, h)
		return err
	}
	in, err := netlink.NewHandleAt(b.hosts[h])
	if err != nil {
		return err
	}
	defer in.Close()
	for k := range b.spec.Hosts[h].LANs {
		link, err := in.LinkByName(hostIf(k))
		if err != nil {
			return err
		}
		attrs := netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT}
		in.QdiscDel(&netlink.GenericQdisc{QdiscAttrs: attrs, QdiscType: "noqueue"}) // whatever was there
		var q netlink.Qdisc
		switch {
		case imp.Delay > 0:
			q = netlink.NewNetem(attrs, netlink.NetemQdiscAttrs{Latency: uint32(time.Duration(imp.Delay*float64(time.Second)) / time.Microsecond), Rate64: imp.Rate})
		case imp.Rate > 0:
			q = &netlink.Tbf{QdiscAttrs: attrs, Rate: imp.Rate, Limit: 1 << 20, Buffer: uint32(max(imp.Rate/10, 16384))}
		default:
			continue
		}
		if err := in.QdiscAdd(q); err != nil {
			if imp.Delay > 0 && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP)) {
				return fmt.Errorf("delay needs the kernel's netem queueing discipline (module sch_netem), which this kernel lacks: %w", err)
			}
			return err
		}
	}
	return nil
}

// linkLoss makes the bridges drop, at random, the share b.loss[h] of the UDP frames that cross
// host h's ports, each way, as a lossy cable would: a frame from h is dropped once as it enters
// the bridge (before the bridge floods a broadcast, so that every receiver misses it), a frame
// to h as it leaves for h's port. One table in the lab's own namespace, made again on each change.
func (b *built) linkLoss() error {
	var fill func(c *nftables.Conn, t *nftables.Table)
	if len(b.loss) > 0 {
		fill = func(c *nftables.Conn, t *nftables.Table) {
			for _, way := range []struct {
				hook *nftables.ChainHook
				port expr.MetaKey
			}{{nftables.ChainHookPrerouting, expr.MetaKeyIIFNAME}, {nftables.ChainHookPostrouting, expr.MetaKeyOIFNAME}} {
				ch := c.AddChain(&nftables.Chain{Name: fmt.Sprint("hook", *way.hook), Table: t, Type: nftables.ChainTypeFilter,
					Hooknum: way.hook, Priority: nftables.ChainPriorityFilter})
				for h, loss := range b.loss {
					per := make([]byte, 4)
					binary.BigEndian.PutUint32(per, uint32(loss*1000+0.5))
					for _, lan := range b.spec.Hosts[h].LANs {
						port := make([]byte, unix.IFNAMSIZ)
						copy(port, portIf(h, lan))
						c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: append([]expr.Any{
							&expr.Meta{Key: way.port, Register: 1},
							&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: port}},
							append(udpOnly(),
								&expr.Numgen{Register: 1, Modulus: 1000, Type: unix.NFT_NG_RANDOM},
								&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
								&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: per},
								&expr.Verdict{Kind: expr.VerdictDrop})...)})
					}
				}
			}
		}
	}
	return replaceTable(b.lab, nftables.TableFamilyBridge, lossTable, fill)
}
