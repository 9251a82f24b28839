// Command udplab runs Lua scripts whose globals are the BSD socket calls, on real kernel sockets,
// or, with no script, an interactive console for typing those calls one at a time.
//
//	udplab scripts/refused.lua [args...]   run a script
//	udplab -e 'print(socket(AF_INET, SOCK_DGRAM))'
//	udplab                                 the console
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/udplab/udplab/console"
	"github.com/udplab/udplab/diagram"
	"github.com/udplab/udplab/lab"
	"github.com/udplab/udplab/luabind"
)

// version is udplab's version, printed by --version.
const version = "udplab 0.1.0"

const usage = `usage: udplab [options] [script [args...]]

Runs a Lua script whose globals are the BSD socket calls (socket, bind, connect, send,
sendto, recv, recvfrom, setsockopt, ...) on real kernel sockets. With no script, opens
an interactive console (or, when standard input is not a terminal, runs it as chunks).

options:
  -e chunk     run the Lua chunk (may be given more than once)
  -i           open the console after running the script or chunks
  -            read the script from standard input
  --trace      print every socket call on stderr, in strace's format
  --step       pause before each socket call and show it: [Enter] runs it, [c] runs
               on to the next section, [q] quits (with stdin not a terminal: no pause)
  --live[=PORT]
               serve the picture as it happens on http://127.0.0.1:PORT/ (by default a
               port the kernel picks; the address is printed), for a browser on this
               machine; it ends with udplab
  --wire       --trace, plus the packets that cross lo for the script's sockets
               (UDP datagrams and ICMP errors; needs CAP_NET_RAW)
  --pcap FILE  write the frames the wire view captures to FILE, as pcapng (Wireshark,
               tshark, tcpdump -r): every frame on a lab's LANs, with the hosts'
               names, and lo's frames of the run's sockets (those need CAP_NET_RAW)
  --diagram FILE
               draw the sequence diagram of the run's socket calls: FILE.svg (for a
               browser), FILE.html (with a legend), FILE.json (its model), else text;
               "-": text on stdout
  --slides DIR write the run's slides to DIR: one SVG per section (01-port-closed.svg,
               ...), each that section alone with the sockets it uses, and index.html,
               which pages through them with the arrow keys; fitted to 1920x1080
  --fit WxH    draw the .svg or .html diagram, or the slides, for a screen of that
               size (1920x1080: a projector): its text as large as the frame allows
  --mem SIZE   the memory Lua may use (512M, 2G, or bytes); past it a call fails
               with "not enough memory". Default: a quarter of what the process may
               get (memory, cgroup limit, ulimit -v)
  --lua-defs FILE
               write the definitions of udplab's globals for the Lua Language Server
               (VS Code, Neovim) to FILE ("-": stdout), and exit
  -h, --help   print this help and exit
  --list       list the scripts udplab ships, and exit
  --version    print the version and exit

The shipped scripts run from any directory: udplab scripts/refused.lua, or udplab refused
(a file on disk of that name wins). In the console, run("pinned") runs one and
bg("udpconnectserver") starts one in the background.

Try: udplab scripts/refused.lua   (the lesson's client: type g1, then Enter)
`

func main() {
	lab.RunHelperIfAsked() // udplab started again as the lab's helper: it never returns
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are the parsed command line.
type options struct {
	chunks      []string // -e
	interactive bool     // -i
	trace       bool     // --trace
	step        bool     // --step
	live        int      // --live: the port; -1: no live picture
	wire        bool     // --wire
	diagram     string   // --diagram
	fit         string   // --fit
	slides      string   // --slides
	pcap        string   // --pcap
	mem         int64    // --mem, in bytes; 0: the default
	luaDefs     string   // --lua-defs
	script      string   // the script's path, "-" for stdin, "" for none
	args        []string // the script's arguments
}

// parseArgs reads the command line as lua(1) does: options, then the script and its arguments.
func parseArgs(args []string) (*options, error) {
	o := &options{live: -1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-e":
			if i+1 >= len(args) {
				return nil, errors.New("'-e' needs an argument")
			}
			i++
			o.chunks = append(o.chunks, args[i])
		case a == "-i":
			o.interactive = true
		case a == "--trace":
			o.trace = true
		case a == "--wire":
			o.wire = true
		case a == "--step":
			o.step = true
		case a == "--live":
			o.live = 0
		case strings.HasPrefix(a, "--live="):
			port, err := strconv.Atoi(strings.TrimPrefix(a, "--live="))
			if err != nil || port < 0 || port > 65535 {
				return nil, fmt.Errorf("invalid port '%s' for --live", strings.TrimPrefix(a, "--live="))
			}
			o.live = port
		case a == "--diagram" || strings.HasPrefix(a, "--diagram="):
			v, err := fileArg(args, &i, "--diagram", "(- for standard output)")
			if err != nil {
				return nil, err
			}
			o.diagram = v
		case a == "--fit" || strings.HasPrefix(a, "--fit="):
			value, found := strings.CutPrefix(a, "--fit=")
			if !found {
				if i+1 >= len(args) {
					return nil, errors.New("'--fit' needs a size (1920x1080)")
				}
				i++
				value = args[i]
			}
			o.fit = value
		case a == "--slides" || strings.HasPrefix(a, "--slides="):
			v, err := fileArg(args, &i, "--slides", "(a folder)")
			if err != nil {
				return nil, err
			}
			o.slides = v
		case a == "--pcap" || strings.HasPrefix(a, "--pcap="):
			v, err := fileArg(args, &i, "--pcap", "")
			if err != nil {
				return nil, err
			}
			o.pcap = v
		case a == "--lua-defs" || strings.HasPrefix(a, "--lua-defs="):
			v, err := fileArg(args, &i, "--lua-defs", "(- for standard output)")
			if err != nil {
				return nil, err
			}
			o.luaDefs = v
		case a == "--mem" || strings.HasPrefix(a, "--mem="):
			value, found := strings.CutPrefix(a, "--mem=")
			if !found {
				if i+1 >= len(args) {
					return nil, errors.New("'--mem' needs a size")
				}
				i++
				value = args[i]
			}
			mem, err := parseSize(value)
			if err != nil {
				return nil, err
			}
			o.mem = mem
		case a == "--":
			if i+1 < len(args) {
				if args[i+1] == "" {
					return nil, errors.New("an empty script name: give a file, a shipped script's name, or - for standard input")
				}
				o.script, o.args = args[i+1], args[i+2:]
			}
			return o, nil
		case a == "":
			return nil, errors.New("an empty script name: give a file, a shipped script's name, or - for standard input")
		case a == "-" || !strings.HasPrefix(a, "-"):
			o.script, o.args = a, args[i+1:]
			return o, nil
		default:
			return nil, fmt.Errorf("unrecognized option '%s'", a)
		}
	}
	return o, nil
}

// fileArg reads the file an option names, in args[*i] ("--pcap=x") or the next argument
// ("--pcap x"), advancing *i past it; an empty name is refused, with hint.
func fileArg(args []string, i *int, flag, hint string) (string, error) {
	value, found := strings.CutPrefix(args[*i], flag+"=")
	if !found {
		if *i+1 >= len(args) {
			return "", fmt.Errorf("'%s' needs a file", flag)
		}
		*i++
		value = args[*i]
	}
	if value == "" {
		return "", errors.New(strings.TrimSpace(fmt.Sprintf("'%s' needs a file name %s", flag, hint)))
	}
	return value, nil
}

// parseSize reads a size in bytes, with an optional K, M or G (powers of 1024): "512M".
func parseSize(s string) (int64, error) {
	shift := 0
	switch {
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		shift = 10
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		shift = 20
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "g"):
		shift = 30
	}
	digits := s
	if shift > 0 {
		digits = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("invalid size '%s' for --mem (try 512M or 2G)", s)
	}
	return n << shift, nil
}

// run is udplab's main, apart so that tests can call it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			io.WriteString(stdout, usage)
			return 0
		}
		if a == "--version" {
			fmt.Fprintln(stdout, version)
			return 0
		}
		if a == "--list" {
			console.ListScripts(stdout)
			return 0
		}
		if a == "--" || !strings.HasPrefix(a, "-") {
			break
		}
	}
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "udplab: %v\n%s", err, usage)
		return 2
	}

	sess := console.New(console.Options{Stdout: stdout, Stderr: stderr, Version: version, MemoryLimit: o.mem})
	sess.StreamRecordingIfAsked()
	code := runSession(sess, o, stdin, stdout, stderr)
	if err := sess.Close(); err != nil && code == 0 {
		code = 1 // the diagram asked for could not be written
	}
	return code
}

// runSession runs what the command line asks in sess, and returns the exit status.
func runSession(sess *console.Session, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	if o.luaDefs != "" {
		if err := writeLuaDefs(sess, o.luaDefs, stdout); err != nil {
			fmt.Fprintf(stderr, "udplab: cannot write the definitions: %v\n", err)
			return 1
		}
		return 0
	}
	switch {
	case o.wire:
		sess.Wire()
	case o.trace:
		sess.Trace()
	}
	if o.pcap != "" {
		if err := refuseOverwrite("--pcap", o.pcap, o.script); err != nil {
			fmt.Fprintf(stderr, "udplab: --pcap: %v\n", err)
			return 2
		}
		if err := sess.Pcap(o.pcap); err != nil {
			fmt.Fprintf(stderr, "udplab: cannot write the pcap file: %v\n", err)
			return 2
		}
	}
	var frame diagram.Frame
	if o.fit != "" {
		f, err := diagram.ParseFrame(o.fit)
		if err == nil && o.slides == "" && !strings.HasSuffix(o.diagram, ".svg") && !strings.HasSuffix(o.diagram, ".html") {
			err = errors.New("it sizes a picture: give --diagram FILE.svg or FILE.html, or --slides DIR")
		}
		if err != nil {
			fmt.Fprintf(stderr, "udplab: --fit: %v\n", err)
			return 2
		}
		frame = f
	}
	if o.diagram != "" {
		if o.diagram != "-" {
			if err := refuseOverwrite("--diagram", o.diagram, o.script); err != nil {
				fmt.Fprintf(stderr, "udplab: --diagram: %v\n", err)
				return 2
			}
			// fail now, not after the run, when the file cannot be written; and leave what is
			// there until the picture replaces it whole
			if err := luabind.CheckWritable(o.diagram); err != nil {
				fmt.Fprintf(stderr, "udplab: cannot write the diagram: %v\n", err)
				return 2
			}
		}
		sess.Diagram(o.diagram, frame)
	}
	if o.slides != "" {
		if err := luabind.CheckSlidesDir(o.slides); err != nil {
			fmt.Fprintf(stderr, "udplab: cannot write the slides: %v\n", err)
			return 2
		}
		slideFrame := frame
		if slideFrame == (diagram.Frame{}) {
			slideFrame = diagram.Frame{W: 1920, H: 1080}
		}
		sess.Slides(o.slides, slideFrame, scriptName(o.script))
	}
	if o.live >= 0 {
		if err := sess.Live(o.live); err != nil {
			fmt.Fprintf(stderr, "udplab: cannot serve the live picture: %v\n", err)
			return 2
		}
	}
	sess.Step(o.step)
	stopSignals := sess.CatchSignals()
	defer stopSignals()

	// With -i, a chunk or script that fails leaves the console open with what it made, as
	// python -i does; without, it ends udplab with status 1.
	for _, chunk := range o.chunks {
		if err := sess.RunChunk(chunk); err != nil {
			sess.Report(err)
			if !o.interactive {
				return 1
			}
			return sess.REPL(stdin)
		}
	}
	switch {
	case o.script != "":
		if err := sess.RunScript(o.script, o.args, stdin); err != nil {
			sess.Report(err)
			if !o.interactive {
				return 1
			}
		}
		if !o.interactive {
			return 0
		}
	case len(o.chunks) > 0 && !o.interactive:
		return 0
	}
	return sess.REPL(stdin)
}

// refuseOverwrite refuses an output file that is a Lua script, or the script being run: a
// forgotten file name (udplab --pcap mine.lua) must not destroy the user's script.
func refuseOverwrite(flag, path, script string) error {
	if strings.HasSuffix(path, ".lua") {
		return fmt.Errorf("%s is a Lua script: not writing over it (give the output file first: %s out.%s script.lua)", path, flag,
			map[string]string{"--pcap": "pcapng", "--diagram": "svg"}[flag])
	}
	if script != "" && script != "-" {
		a, errA := os.Stat(path)
		b, errB := os.Stat(script)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return fmt.Errorf("%s is the script being run: not writing over it", path)
		}
	}
	return nil
}

// writeLuaDefs writes the session's definitions for the Lua Language Server to path ("-":
// stdout).
func writeLuaDefs(sess *console.Session, path string, stdout io.Writer) error {
	if path == "-" {
		return sess.WriteLuaDefs(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := sess.WriteLuaDefs(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// scriptName is what the slides call the run: the script's name, without its folder and ".lua".
func scriptName(script string) string {
	switch script {
	case "":
		return "udplab"
	case "-":
		return "stdin"
	}
	return strings.TrimSuffix(filepath.Base(script), ".lua")
}
