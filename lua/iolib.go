package lua

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	glua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Lua's io library, as PUC Lua 5.4 has it, in place of gopher-lua's: a line is what C's fgets
// reads (it ends at "\n" only, so "g1\r" stays 3 bytes, and it has no length limit), read(n) and
// read("a") check the memory they ask for, failures are luaL_fileresult's triple ("name: No such
// file or directory", 2), and every file a script opens is flushed on every way out (os.exit,
// fatal, an error, the end of a script). io.stdout and io.stderr write to Options.Stdout and
// Options.Stderr, unbuffered unless setvbuf asks otherwise, so that io.write, print and the
// trace keep their order; io.stdin reads Options.Stdin (see SetStdin).

// fileTypeName is the name of the file type in argument errors and in the registry.
const fileTypeName = "FILE*"

// maxNumeral is PUC Lua's L_MAXLENNUM: the longest numeral read("n") reads.
const maxNumeral = 200

// luaFile is the value a Lua file userdata holds.
type luaFile struct {
	name   string          // the path, for messages
	f      *os.File        // an opened file, or nil
	cmd    *exec.Cmd       // io.popen's process, or nil
	src    io.Reader       // where reads come from; nil: not readable
	dst    io.Writer       // where writes go; nil: not writable
	closer io.Closer       // io.popen's pipe, closed before waiting
	r      *bufio.Reader   // src, buffered (made on the first read)
	w      *bufio.Writer   // dst, buffered when setvbuf asked for it (or for an opened file)
	line   bool            // setvbuf("line"): flush at every newline
	std    bool            // io.stdin, io.stdout, io.stderr: close refuses
	closed bool            // closed: every method but tostring and io.type raises
	ud     *glua.LUserData // the one userdata of this file
}

// ioLib is the state of the io library of one Lua state.
type ioLib struct {
	stdin, stdout, stderr *luaFile
	input, output         *luaFile
	opened                []*luaFile // the files io.open, io.popen and io.tmpfile made, flushed at exit
	mt                    *glua.LTable
}

// installIO replaces the io library of L, and the file metatable, with this one.
func (rt *Runtime) installIO(L *glua.LState) {
	lib := &rt.io
	lib.mt = L.NewTypeMetatable(fileTypeName)
	methods := L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{
		"close":   rt.fileClose,
		"flush":   rt.fileFlush,
		"lines":   rt.fileLines,
		"read":    rt.fileRead,
		"seek":    rt.fileSeek,
		"setvbuf": rt.fileSetvbuf,
		"write":   rt.fileWrite,
	})
	lib.mt.RawSetString("__index", methods)
	lib.mt.RawSetString("__name", glua.LString(fileTypeName))
	lib.mt.RawSetString("__tostring", L.NewFunction(fileToString))

	lib.stdin = rt.newFile(L, &luaFile{name: "stdin", src: rt.stdinReader(), std: true})
	lib.stdout = rt.newFile(L, &luaFile{name: "stdout", dst: rt.stdout(), std: true})
	lib.stderr = rt.newFile(L, &luaFile{name: "stderr", dst: rt.stderr(), std: true})
	lib.input, lib.output = lib.stdin, lib.stdout

	ioTable := L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{
		"close":   rt.ioClose,
		"flush":   rt.ioFlush,
		"input":   rt.ioInput,
		"lines":   rt.ioLines,
		"open":    rt.ioOpen,
		"output":  rt.ioOutput,
		"popen":   rt.ioPopen,
		"read":    rt.ioRead,
		"tmpfile": rt.ioTmpfile,
		"type":    rt.ioType,
		"write":   rt.ioWrite,
	})
	ioTable.RawSetString("stdin", lib.stdin.ud)
	ioTable.RawSetString("stdout", lib.stdout.ud)
	ioTable.RawSetString("stderr", lib.stderr.ud)
	L.SetGlobal("io", ioTable)
	if loaded, ok := L.GetField(L.Get(glua.RegistryIndex), "_LOADED").(*glua.LTable); ok {
		loaded.RawSetString("io", ioTable)
	}
}

func (rt *Runtime) stdinReader() io.Reader {
	if rt.opts.Stdin != nil {
		return rt.opts.Stdin
	}
	return os.Stdin
}

// SetStdin makes io.stdin read from r from now on, dropping what it had buffered: the console
// hands it its line editor, or the buffered reader it reads its chunks from (a *bufio.Reader is
// read as it is, so that the two share what is buffered).
func (rt *Runtime) SetStdin(r io.Reader) {
	rt.io.stdin.src, rt.io.stdin.r = r, nil
	if br, ok := r.(*bufio.Reader); ok {
		rt.io.stdin.r = br
	}
}

// newFile makes the userdata of f.
func (rt *Runtime) newFile(L *glua.LState, f *luaFile) *luaFile {
	f.ud = L.NewUserData()
	f.ud.Value = f
	f.ud.Metatable = rt.io.mt
	return f
}

// checkFile returns argument n as an open file, raising Lua's errors otherwise.
func checkFile(L *glua.LState, n int, fname string) *luaFile {
	f := toFile(L.Get(n))
	if f == nil {
		args{L, fname}.typeError(n, fileTypeName)
	}
	if f.closed {
		L.RaiseError("attempt to use a closed file")
	}
	return f
}

func toFile(v glua.LValue) *luaFile {
	if ud, ok := v.(*glua.LUserData); ok {
		if f, ok := ud.Value.(*luaFile); ok {
			return f
		}
	}
	return nil
}

func fileToString(L *glua.LState) int {
	f := toFile(L.Get(1))
	switch {
	case f == nil:
		args{L, "tostring"}.typeError(1, fileTypeName)
	case f.closed:
		L.Push(glua.LString("file (closed)"))
	default:
		L.Push(glua.LString(fmt.Sprintf("file (%p)", f)))
	}
	return 1
}

// fileResult pushes luaL_fileresult's answer: true, or nil, the message (after name, when
// given) and the errno.
func fileResult(L *glua.LState, err error, name string) int {
	if err == nil {
		L.Push(glua.LTrue)
		return 1
	}
	e := errnoOf(err)
	msg := err.Error()
	if e != 0 {
		msg = strerror(e)
	}
	if name != "" {
		msg = name + ": " + msg
	}
	L.Push(glua.LNil)
	L.Push(glua.LString(msg))
	L.Push(glua.LNumber(e))
	return 3
}

// reader returns f's buffered reader, or nil when f cannot be read.
func (f *luaFile) reader() *bufio.Reader {
	if f.r == nil && f.src != nil {
		f.r = bufio.NewReader(f.src)
	}
	return f.r
}

// flush writes out what f buffers.
func (f *luaFile) flush() error {
	if f.w == nil || f.closed {
		return nil
	}
	return f.w.Flush()
}

// write writes s to f.
func (f *luaFile) write(s string) error {
	if f.dst == nil {
		return unix.EBADF // as fwrite on a file opened for reading
	}
	if f.w == nil {
		_, err := io.WriteString(f.dst, s)
		return err
	}
	if _, err := f.w.WriteString(s); err != nil {
		return err
	}
	if f.line && strings.Contains(s, "\n") {
		return f.w.Flush()
	}
	return nil
}

// close flushes and closes f; for io.popen's, it waits for the process and returns its status.
func (f *luaFile) close() (status *os.ProcessState, err error) {
	err = f.flush()
	f.closed = true
	if f.closer != nil {
		f.closer.Close()
	}
	if f.cmd != nil {
		werr := f.cmd.Wait()
		var exit *exec.ExitError
		if werr != nil && !errors.As(werr, &exit) {
			return nil, werr
		}
		return f.cmd.ProcessState, err
	}
	if f.f != nil {
		if cerr := f.f.Close(); err == nil {
			err = cerr
		}
	}
	return nil, err
}

// FlushFiles flushes io.stdout, io.stderr and every file the script opened and has not closed.
// It must run on the Lua state's goroutine; errors are ignored (a full disk: nothing more can be
// done on the way out).
func (rt *Runtime) FlushFiles() {
	rt.io.stdout.flush()
	rt.io.stderr.flush()
	for _, f := range rt.io.opened {
		f.flush()
	}
}

// closeFiles closes the files the script opened and left open, as lua_close does, without
// flushing them (FlushFiles did, on the Lua state's goroutine) or waiting for io.popen's
// processes.
func (rt *Runtime) closeFiles() {
	for _, f := range rt.io.opened {
		if f.f != nil {
			f.f.Close()
		}
		if f.closer != nil {
			f.closer.Close()
		}
	}
	rt.io.opened = nil
}

// keep records f as opened by the script, dropping the closed ones from the list first.
func (rt *Runtime) keep(f *luaFile) {
	open := rt.io.opened[:0]
	for _, kept := range rt.io.opened {
		if !kept.closed {
			open = append(open, kept)
		}
	}
	rt.io.opened = append(open, f)
}

// openMode checks a mode of io.open as PUC Lua does ([rwa]%+?b*) and returns the os flags.
func openMode(mode string) (int, bool) {
	if mode == "" {
		return 0, false
	}
	var flags int
	switch mode[0] {
	case 'r':
		flags = os.O_RDONLY
	case 'w':
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	case 'a':
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	default:
		return 0, false
	}
	rest := mode[1:]
	if strings.HasPrefix(rest, "+") {
		flags = flags&^(os.O_RDONLY|os.O_WRONLY) | os.O_RDWR
		rest = rest[1:]
	}
	if strings.Trim(rest, "b") != "" {
		return 0, false
	}
	return flags, true
}

// open opens path for io.open and io.lines.
func (rt *Runtime) open(L *glua.LState, path string, flags int) (*luaFile, error) {
	osf, err := os.OpenFile(path, flags, 0666)
	if err != nil {
		return nil, err
	}
	f := &luaFile{name: path, f: osf}
	if flags&(os.O_WRONLY|os.O_RDWR) == 0 || flags&os.O_RDWR != 0 {
		f.src = osf
	}
	if flags&(os.O_WRONLY|os.O_RDWR) != 0 {
		f.dst = osf
		f.w = bufio.NewWriter(osf)
	}
	rt.newFile(L, f)
	rt.keep(f)
	return f, nil
}

// ioOpen is io.open(filename[, mode]).
func (rt *Runtime) ioOpen(L *glua.LState) int {
	a := args{L, "io.open"}
	path := a.string(1)
	mode := "r"
	if L.Get(2) != glua.LNil {
		mode = a.string(2)
	}
	flags, ok := openMode(mode)
	if !ok {
		a.argError(2, "invalid mode")
	}
	f, err := rt.open(L, path, flags)
	if err != nil {
		return fileResult(L, err, path)
	}
	L.Push(f.ud)
	return 1
}

// ioPopen is io.popen(prog[, mode]): prog run by /bin/sh, its output read ("r") or its input
// written ("w").
func (rt *Runtime) ioPopen(L *glua.LState) int {
	a := args{L, "io.popen"}
	prog := a.string(1)
	mode := "r"
	if L.Get(2) != glua.LNil {
		mode = a.string(2)
	}
	if mode != "r" && mode != "w" {
		a.argError(2, "invalid mode")
	}
	rt.FlushFiles()
	cmd := exec.Command("/bin/sh", "-c", prog)
	cmd.Stderr = os.Stderr
	f := &luaFile{name: prog, cmd: cmd}
	var err error
	if mode == "r" {
		cmd.Stdin = os.Stdin
		var out io.ReadCloser
		out, err = cmd.StdoutPipe()
		f.src, f.closer = out, out
	} else {
		cmd.Stdout = rt.stdout()
		var in io.WriteCloser
		in, err = cmd.StdinPipe()
		f.dst, f.closer = in, in
	}
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		return fileResult(L, err, prog)
	}
	rt.newFile(L, f)
	rt.keep(f)
	L.Push(f.ud)
	return 1
}

// ioTmpfile is io.tmpfile(): a new file, removed from the directory at once.
func (rt *Runtime) ioTmpfile(L *glua.LState) int {
	osf, err := os.CreateTemp("", "lua_")
	if err != nil {
		return fileResult(L, err, "")
	}
	os.Remove(osf.Name())
	f := &luaFile{name: osf.Name(), f: osf, src: osf, dst: osf}
	f.w = bufio.NewWriter(osf)
	rt.newFile(L, f)
	rt.keep(f)
	L.Push(f.ud)
	return 1
}

// ioType is io.type(obj): "file", "closed file", or nil (fail).
func (rt *Runtime) ioType(L *glua.LState) int {
	if L.GetTop() == 0 {
		args{L, "io.type"}.typeError(1, "value")
	}
	switch f := toFile(L.Get(1)); {
	case f == nil:
		L.Push(glua.LNil)
	case f.closed:
		L.Push(glua.LString("closed file"))
	default:
		L.Push(glua.LString("file"))
	}
	return 1
}

// closeFile is file:close() and io.close(): true, or the failure triple; for io.popen's,
// true or nil, then "exit" or "signal" and the code, as os.execute.
func (rt *Runtime) closeFile(L *glua.LState, f *luaFile) int {
	if f.std {
		L.Push(glua.LNil)
		L.Push(glua.LString("cannot close standard file"))
		return 2
	}
	status, err := f.close()
	if status == nil {
		return fileResult(L, err, "")
	}
	if status.Success() {
		L.Push(glua.LTrue)
	} else {
		L.Push(glua.LNil)
	}
	if ws, ok := status.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		L.Push(glua.LString("signal"))
		L.Push(glua.LNumber(ws.Signal()))
		return 3
	}
	L.Push(glua.LString("exit"))
	L.Push(glua.LNumber(status.ExitCode()))
	return 3
}

func (rt *Runtime) fileClose(L *glua.LState) int {
	return rt.closeFile(L, checkFile(L, 1, "close"))
}

func (rt *Runtime) ioClose(L *glua.LState) int {
	if L.GetTop() == 0 {
		return rt.closeFile(L, rt.defaultFile(L, rt.io.output))
	}
	return rt.closeFile(L, checkFile(L, 1, "io.close"))
}

// defaultFile returns io.input() or io.output(), raising when it is closed.
func (rt *Runtime) defaultFile(L *glua.LState, f *luaFile) *luaFile {
	if f.closed {
		L.RaiseError("default %s file is closed", map[bool]string{true: "input", false: "output"}[f == rt.io.input])
	}
	return f
}

// fileFlush and ioFlush are file:flush() and io.flush(): true, or the failure triple.
func (rt *Runtime) fileFlush(L *glua.LState) int {
	return fileResult(L, checkFile(L, 1, "flush").flush(), "")
}

func (rt *Runtime) ioFlush(L *glua.LState) int {
	return fileResult(L, rt.defaultFile(L, rt.io.output).flush(), "")
}

// ioInput and ioOutput are io.input([file]) and io.output([file]).
func (rt *Runtime) ioInput(L *glua.LState) int {
	return rt.setDefault(L, &rt.io.input, "io.input", "r")
}

func (rt *Runtime) ioOutput(L *glua.LState) int {
	return rt.setDefault(L, &rt.io.output, "io.output", "w")
}

func (rt *Runtime) setDefault(L *glua.LState, slot **luaFile, fname, mode string) int {
	switch v := L.Get(1).(type) {
	case glua.LString:
		flags, _ := openMode(mode)
		f, err := rt.open(L, string(v), flags)
		if err != nil {
			L.RaiseError("cannot open file '%s' (%s)", string(v), strerror(errnoOf(err)))
		}
		*slot = f
	case glua.LNumber:
		args{L, fname}.typeError(1, fileTypeName)
	default:
		if v != glua.LNil {
			*slot = checkFile(L, 1, fname)
		}
	}
	L.Push((*slot).ud)
	return 1
}

// ioWrite and fileWrite are io.write(...) and file:write(...).
func (rt *Runtime) ioWrite(L *glua.LState) int {
	return rt.write(L, rt.defaultFile(L, rt.io.output), 1, "io.write")
}

func (rt *Runtime) fileWrite(L *glua.LState) int {
	return rt.write(L, checkFile(L, 1, "write"), 2, "write")
}

func (rt *Runtime) write(L *glua.LState, f *luaFile, first int, fname string) int {
	a := args{L, fname}
	for i := first; i <= L.GetTop(); i++ {
		var s string
		switch v := L.Get(i).(type) {
		case glua.LString:
			s = string(v)
		case glua.LNumber:
			s = numberG(float64(v))
		default:
			a.typeError(i, "string")
		}
		if err := f.write(s); err != nil {
			return fileResult(L, err, "")
		}
	}
	L.Push(f.ud)
	return 1
}

// fileSeek is file:seek([whence[, offset]]).
func (rt *Runtime) fileSeek(L *glua.LState) int {
	f := checkFile(L, 1, "seek")
	a := args{L, "seek"}
	whence := map[string]int{"set": io.SeekStart, "cur": io.SeekCurrent, "end": io.SeekEnd}
	w := io.SeekCurrent
	if L.Get(2) != glua.LNil {
		var ok bool
		if w, ok = whence[a.string(2)]; !ok {
			a.argError(2, fmt.Sprintf("invalid option '%s'", a.string(2)))
		}
	}
	offset := int64(a.optInt(3, 0))
	if f.f == nil {
		return fileResult(L, errIllegalSeek, "")
	}
	if err := f.flush(); err != nil {
		return fileResult(L, err, "")
	}
	if f.r != nil {
		if w == io.SeekCurrent {
			offset -= int64(f.r.Buffered())
		}
		f.r.Reset(f.src)
	}
	pos, err := f.f.Seek(offset, w)
	if err != nil {
		return fileResult(L, err, "")
	}
	L.Push(glua.LNumber(pos))
	return 1
}

// errnoOf is the errno behind err, 0 when there is none.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// strerror is glibc's strerror(3) of e: Go's text of an errno is glibc's with a small first
// letter ("no such file or directory").
func strerror(e syscall.Errno) string {
	s := e.Error()
	if strings.HasPrefix(s, "errno ") || s == "" {
		return "Unknown error " + strconv.Itoa(int(e))
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// errIllegalSeek is what seeking a pipe or a terminal answers.
var errIllegalSeek = &os.PathError{Op: "seek", Err: unix.ESPIPE}

// fileSetvbuf is file:setvbuf(mode[, size]).
func (rt *Runtime) fileSetvbuf(L *glua.LState) int {
	f := checkFile(L, 1, "setvbuf")
	a := args{L, "setvbuf"}
	mode := a.string(2)
	size := a.optInt(3, 4096)
	rt.Reserve(L, int64(size))
	if err := f.flush(); err != nil {
		return fileResult(L, err, "")
	}
	switch mode {
	case "no":
		f.w, f.line = nil, false
	case "full", "line":
		if f.dst != nil {
			f.w, f.line = bufio.NewWriterSize(f.dst, max(size, 16)), mode == "line"
		}
	default:
		a.argError(2, fmt.Sprintf("invalid option '%s'", mode))
	}
	L.Push(glua.LTrue)
	return 1
}

// ioRead and fileRead are io.read(...) and file:read(...).
func (rt *Runtime) ioRead(L *glua.LState) int {
	return rt.read(L, rt.defaultFile(L, rt.io.input), 1, "io.read")
}

func (rt *Runtime) fileRead(L *glua.LState) int {
	return rt.read(L, checkFile(L, 1, "read"), 2, "read")
}

// read reads the formats from index first on (a line when there are none), pushing one value
// per format up to the first that finds nothing, which pushes nil; a read error pushes the
// failure triple.
func (rt *Runtime) read(L *glua.LState, f *luaFile, first int, fname string) int {
	r := f.reader()
	if r == nil {
		return fileResult(L, errBadFile, "")
	}
	a := args{L, fname}
	top := L.GetTop()
	if top < first {
		v, err := readLine(r, true)
		if err != nil {
			return fileResult(L, err, "")
		}
		L.Push(v)
		return 1
	}
	for i := first; i <= top; i++ {
		var v glua.LValue
		var err error
		switch format := L.Get(i).(type) {
		case glua.LNumber:
			n := a.toInt(i, float64(format))
			v, err = rt.readCount(L, r, n)
		default:
			spec := strings.TrimPrefix(a.string(i), "*")
			switch {
			case strings.HasPrefix(spec, "n"):
				v = readNumber(r)
			case strings.HasPrefix(spec, "l"):
				v, err = readLine(r, true)
			case strings.HasPrefix(spec, "L"):
				v, err = readLine(r, false)
			case strings.HasPrefix(spec, "a"):
				v, err = rt.readAll(L, f, r)
			default:
				a.argError(i, "invalid format")
			}
		}
		if err != nil {
			return fileResult(L, err, "")
		}
		L.Push(v)
		if v == glua.LNil {
			return i - first + 1
		}
	}
	return top - first + 1
}

// errBadFile is what reading a file opened for writing only answers.
var errBadFile = &os.PathError{Op: "read", Err: unix.EBADF}

// readLine reads up to and including the next "\n" (PUC Lua's read_line): with chop, without
// it. At the end of the input with nothing read it returns nil.
func readLine(r *bufio.Reader, chop bool) (glua.LValue, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil && err != io.EOF {
		return glua.LNil, err
	}
	if len(line) == 0 {
		return glua.LNil, nil
	}
	if chop && line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
	}
	return glua.LString(line), nil
}

// readCount reads up to n bytes: "" for n == 0 unless at the end, nil at the end.
func (rt *Runtime) readCount(L *glua.LState, r *bufio.Reader, n int) (glua.LValue, error) {
	if n < 0 {
		L.RaiseError("%s", ErrNoMemory.Error()) // PUC Lua asks for (size_t)n bytes
	}
	if n == 0 {
		if _, err := r.Peek(1); err != nil {
			if err == io.EOF {
				return glua.LNil, nil
			}
			return glua.LNil, err
		}
		return glua.LString(""), nil
	}
	if n > r.Size() {
		rt.Reserve(L, int64(n))
	}
	buf := make([]byte, min(n, 1<<16))
	var out []byte
	for len(out) < n {
		want := min(n-len(out), len(buf))
		got, err := io.ReadFull(r, buf[:want])
		out = append(out, buf[:got]...)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return glua.LNil, err
		}
	}
	if len(out) == 0 {
		return glua.LNil, nil
	}
	return glua.LString(out), nil
}

// readAll reads to the end of f: "" when already there.
func (rt *Runtime) readAll(L *glua.LState, f *luaFile, r *bufio.Reader) (glua.LValue, error) {
	if f.f != nil {
		if info, err := f.f.Stat(); err == nil && info.Mode().IsRegular() {
			if pos, err := f.f.Seek(0, io.SeekCurrent); err == nil && info.Size() > pos {
				rt.Reserve(L, info.Size()-pos)
			}
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return glua.LNil, err
	}
	return glua.LString(b), nil
}

// readNumber is PUC Lua's read("n"): after spaces, the longest prefix that can start a numeral
// (at most maxNumeral characters), converted as tonumber does; nil when it is not one.
func readNumber(r *bufio.Reader) glua.LValue {
	var b strings.Builder
	next := func() byte {
		c, err := r.ReadByte()
		if err != nil {
			return 0
		}
		return c
	}
	c := next()
	for c == ' ' || c >= '\t' && c <= '\r' {
		c = next()
	}
	tooLong := false
	accept := func(set string) bool {
		if c == 0 || strings.IndexByte(set, c) < 0 || tooLong {
			return false
		}
		if b.Len() >= maxNumeral { // PUC Lua's buffer is full: not a numeral
			tooLong = true
			return false
		}
		b.WriteByte(c)
		c = next()
		return true
	}
	digits := func(hex bool) int {
		set := "0123456789"
		if hex {
			set += "abcdefABCDEF"
		}
		n := 0
		for accept(set) {
			n++
		}
		return n
	}
	accept("+-")
	hex := false
	count := 0
	if accept("0") {
		count = 1
		hex = accept("xX")
		if hex {
			count = 0
		}
	}
	count += digits(hex)
	if accept(".") {
		count += digits(hex)
	}
	exponent := "eE"
	if hex {
		exponent = "pP"
	}
	if count > 0 && accept(exponent) {
		accept("+-")
		digits(false)
	}
	if c != 0 {
		r.UnreadByte()
	}
	v, err := ParseNumber(b.String())
	if err != nil || tooLong {
		return glua.LNil
	}
	return glua.LNumber(v)
}

// ioLines and fileLines are io.lines([filename, ...]) and file:lines(...): an iterator that
// reads the formats (a line by default) until one finds nothing. io.lines with a file name
// closes the file then.
func (rt *Runtime) ioLines(L *glua.LState) int {
	if L.Get(1) == glua.LNil {
		f := rt.defaultFile(L, rt.io.input)
		return rt.lines(L, f, false)
	}
	path := args{L, "io.lines"}.string(1)
	f, err := rt.open(L, path, os.O_RDONLY)
	if err != nil {
		L.RaiseError("cannot open file '%s' (%s)", path, strerror(errnoOf(err)))
	}
	return rt.lines(L, f, true)
}

func (rt *Runtime) fileLines(L *glua.LState) int {
	return rt.lines(L, checkFile(L, 1, "lines"), false)
}

// maxLinesFormats is PUC Lua's limit on the formats io.lines keeps.
const maxLinesFormats = 250

func (rt *Runtime) lines(L *glua.LState, f *luaFile, closeAtEnd bool) int {
	formats := make([]glua.LValue, 0, L.GetTop())
	for i := 2; i <= L.GetTop(); i++ {
		formats = append(formats, L.Get(i))
	}
	if len(formats) > maxLinesFormats {
		args{L, "lines"}.argError(maxLinesFormats+2, "too many arguments")
	}
	L.Push(L.NewFunction(func(L *glua.LState) int {
		if f.closed {
			L.RaiseError("file is already closed")
		}
		L.SetTop(0)
		L.Push(f.ud)
		for _, v := range formats {
			L.Push(v)
		}
		n := rt.read(L, f, 2, "lines")
		if first := L.Get(-n); first == glua.LNil {
			if n > 1 {
				L.RaiseError("%s", glua.LVAsString(L.Get(-n+1)))
			}
			if closeAtEnd {
				f.close()
			}
		}
		return n
	}))
	if closeAtEnd {
		// Lua 5.4 returns the file too, as the to-be-closed value of the loop.
		L.Push(glua.LNil)
		L.Push(glua.LNil)
		L.Push(f.ud)
		return 4
	}
	return 1
}
