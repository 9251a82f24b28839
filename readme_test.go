package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README is for someone who has just cloned the project: short, its claims exact, its links
// alive, its example experiment one that runs and fails when the kernel disagrees.
func TestReadme(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	lines := strings.Split(strings.TrimSuffix(readme, "\n"), "\n")
	if len(lines) > 300 {
		t.Errorf("the README has %d lines, more than 300", len(lines))
	}
	for _, want := range []string{"go run . scripts/refused.lua", "go test ./..."} {
		if !strings.Contains(strings.Join(lines[:20], "\n"), want) {
			t.Errorf("the README's opening does not show %q", want)
		}
	}
	// go install from the clone comes first: @latest works only once the module is published
	if local, latest := strings.Index(readme, "go install ."), strings.Index(readme, "@latest"); local < 0 || latest >= 0 && latest < local {
		t.Errorf("the README does not lead with go install . from the clone")
	}
	// go run's transcript shows the line go run adds
	if !strings.Contains(readme, "    recvfrom failed: Connection refused (111)\n    exit status 1\n") {
		t.Errorf("the go run transcript does not show go run's exit status line")
	}
	// "byte for byte" for the lesson's programs says the server differs on purpose
	if i := strings.Index(readme, "byte for byte"); i < 0 || !strings.Contains(readme[i:i+400], "udpconnectserver.lua`) differs on purpose") {
		t.Errorf("the README's byte-for-byte claim does not say that the server differs")
	}
	for _, link := range regexp.MustCompile(`\]\(([^)#:]+)\)`).FindAllStringSubmatch(readme, -1) {
		if _, err := os.Stat(link[1]); err != nil {
			t.Errorf("the README links to %s: %v", link[1], err)
		}
	}
	if !strings.Contains(lines[len(lines)-1], "[LICENSE](LICENSE)") {
		t.Errorf("the README's last line does not name the licence: %q", lines[len(lines)-1])
	}
	if license := readFile(t, "LICENSE"); !strings.HasPrefix(license, "MIT License\n\nCopyright (c) 2026 the udplab authors\n") {
		t.Errorf("LICENSE is not MIT's with the authors' copyright:\n%s", license)
	}
	for path, want := range map[string]string{"docs/performance.md": "| udplab |", "docs/testing.md": "FuzzConsoleLine",
		"docs/lab.md": "scripts/lan/"} {
		if !strings.Contains(readFile(t, path), want) {
			t.Errorf("%s does not hold %q", path, want)
		}
	}
}

// The README's example experiment has ten lines; run where no script of the project is, it
// passes, and stating what the kernel does not do (EAGAIN) fails it with status 1.
func TestReadmeExperiment(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	start := strings.Index(readme, "    -- mine.lua:")
	if start < 0 {
		t.Fatal("no example experiment (-- mine.lua:) in the README")
	}
	block := readme[start:]
	block = block[:strings.Index(block, "\n\n")]
	var src []string
	for _, line := range strings.Split(block, "\n") {
		src = append(src, strings.TrimPrefix(line, "    "))
	}
	if len(src) > 10 {
		t.Errorf("the example has %d lines, more than ten", len(src))
	}
	dir := t.TempDir()
	mine := filepath.Join(dir, "mine.lua")
	if err := os.WriteFile(mine, []byte(strings.Join(src, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := udplab(t, "", mine)
	if r.code != 0 || !strings.Contains(r.stdout, "recv(client, 100): recv failed: Connection refused (111)\n") ||
		!strings.Contains(r.stdout, "\nverdict: the ICMP port unreachable reached") {
		t.Errorf("the example: %+v", r)
	}
	wrong := strings.Replace(strings.Join(src, "\n"), "== ECONNREFUSED", "== EAGAIN", 1)
	if err := os.WriteFile(mine, []byte(wrong+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = udplab(t, "", mine)
	if r.code != 1 || !strings.Contains(r.stdout, "NOT AS EXPECTED") || !strings.Contains(r.stdout, "verdict: the kernel did not behave as stated") {
		t.Errorf("the example stating EAGAIN: %+v", r)
	}
}
