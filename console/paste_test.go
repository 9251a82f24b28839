package console

import (
	"os"
	"strings"
	"testing"
)

// What the line editor reads from pasteInput, read by read: a long run of plain characters is
// one marker; escape sequences, control keys and short runs pass as they came, also when a read
// cuts them in two.
func TestPasteInput(t *testing.T) {
	long := strings.Repeat("x", minPasteRun)
	marker := string(pasteMarker)
	for _, tc := range []struct {
		name   string
		reads  []string
		want   string
		queued []string
	}{
		{"typed keys", []string{"a", "b", "\r"}, "ab\r", nil},
		{"a paste", []string{long + "\r" + long}, marker + "\r" + marker, []string{long, long}},
		{"a short run", []string{"print(1)\r"}, "print(1)\r", nil},
		{"an arrow before a paste", []string{"\x1b[A" + long}, "\x1b[A" + marker, []string{long}},
		{"an escape cut by a read", []string{"\x1b[1;", "5C" + long}, "\x1b[1;5C" + marker, []string{long}},
		{"alt and SS3 keys", []string{"\x1bb\x1bOH" + long}, "\x1bb\x1bOH" + marker, []string{long}},
		{"a character cut by a read", []string{long + "\xc3", "\xa9"}, marker + "é", []string{long}},
		{"the marker typed", []string{marker}, marker, []string{marker}},
		{"tabs in a paste", []string{"a\tb" + long}, marker, []string{"a\tb" + long}},
		{"a Tab after a paste", []string{long + "\t"}, marker + "\t", []string{long}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			in := newPasteInput(r)
			var got strings.Builder
			for _, chunk := range tc.reads {
				w.WriteString(chunk)
				buf := make([]byte, 100)
				n, err := in.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				got.Write(buf[:n])
			}
			if got.String() != tc.want {
				t.Errorf("read %q, want %q", got.String(), tc.want)
			}
			var queued []string
			for run, ok := in.take(); ok; run, ok = in.take() {
				queued = append(queued, string(run))
			}
			if strings.Join(queued, "|") != strings.Join(tc.queued, "|") {
				t.Errorf("queued %q, want %q", queued, tc.queued)
			}
		})
	}
}
